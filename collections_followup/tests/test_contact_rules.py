from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon

# Tuesday 31 March 2026: 08:00 UTC is 01:00 in Los Angeles (PDT, UTC-7) and 10:00 in Brussels.
NIGHT_IN_LA = datetime(2026, 3, 31, 8, 0)
MORNING_IN_LA = datetime(2026, 3, 31, 16, 0)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestContactRules(CollectionsCommon):
    """The scheduler contacts customers only when the policy's rules allow it, in their time zone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.sudo().write({
            "contact_rules": True, "contact_hour_from": 9.0, "contact_hour_to": 18.0,
            "contact_min_gap_hours": 24, "contact_cap_email": 3, "contact_window_days": 7,
        })
        cls.customer.tz = "America/Los_Angeles"

    def _run_at(self, now, partner_ids=None):
        return self.env["collections.run"].with_company(self.company)._run_company(
            self.company, TODAY, now=now, partner_ids=partner_ids,
        )

    def test_night_reminder_waits_for_the_customer_morning(self):
        invoice = self._invoice(self.customer, 900.0, 10)
        with self.mock_mail_gateway():
            self._run_at(NIGHT_IN_LA)
        self.assertFalse(self._mails_to(self.customer), "nobody is emailed at 1 a.m. their time")
        self.assertFalse(invoice.collections_level_id, "the level is reached only when the reminder goes out")
        wait = self._actions(self.customer, channel="contact_wait")
        self.assertEqual(len(wait), 1)
        self.assertEqual((wait.state, wait.postponed_until), ("waiting", MORNING_IN_LA), "09:00 in Los Angeles")
        self.assertIn("outside the contact hours", wait.note)
        self.assertIn("America/Los_Angeles", wait.note)

        # The daily run again before the wait is over: skipped, no second entry.
        with self.mock_mail_gateway():
            self._run_at(NIGHT_IN_LA + timedelta(hours=2))
        self.assertEqual(len(self._actions(self.customer, channel="contact_wait")), 1)

        # The hourly run at 09:00 their time sends it.
        run = self.env["collections.run"].with_company(self.company)
        self.assertFalse(run._wait_over(self.company, MORNING_IN_LA - timedelta(minutes=1)))
        self.assertEqual(run._wait_over(self.company, MORNING_IN_LA), {self.customer.id})
        with self.mock_mail_gateway():
            self._run_at(MORNING_IN_LA, partner_ids={self.customer.id})
        self.assertEqual(len(self._mails_to(self.customer)), 1)
        self.assertEqual(invoice.collections_level_id, self.level_first)
        self.assertFalse(run._wait_over(self.company, MORNING_IN_LA + timedelta(hours=1)),
                         "a wait followed by the reminder is over")

    def test_customer_without_time_zone_uses_the_company_one(self):
        self.customer.tz = False
        self.company.partner_id.sudo().tz = "Europe/Brussels"
        self._invoice(self.customer, 900.0, 10)
        with self.mock_mail_gateway():
            self._run_at(NIGHT_IN_LA)  # 10:00 in Brussels
        self.assertEqual(len(self._mails_to(self.customer)), 1)
        self.assertFalse(self._actions(self.customer, channel="contact_wait"))

    def test_minimum_gap_after_a_manual_reminder(self):
        self._invoice(self.customer, 900.0, 10)
        # A collector emailed the customer by hand yesterday at 17:00 UTC (10:00 in Los Angeles).
        with freeze_time(datetime(2026, 3, 30, 17, 0)), self.mock_mail_gateway():
            wizard = self.env["collections.send.wizard"].with_user(self.collector).with_context(
                active_model="res.partner", active_ids=self.customer.ids,
            ).create({})
            wizard.action_send()
        self.assertEqual(len(self._actions(self.customer, channel="email", origin="manual")), 1)
        level_after_manual = self.customer.with_company(self.company).collections_level_id
        # Today at 16:00 UTC (09:00 there) the second level would be due... but only 23 hours passed.
        self.level_second.sudo().delay = 8
        with self.mock_mail_gateway():
            self._run_at(MORNING_IN_LA)
        wait = self._actions(self.customer, channel="contact_wait")
        self.assertEqual(wait.postponed_until, datetime(2026, 3, 31, 17, 0), "24 hours after the last reminder")
        self.assertIn("less than 24 hours", wait.note)
        self.assertEqual(self.customer.with_company(self.company).collections_level_id, level_after_manual)

    def test_email_cap_over_the_window(self):
        self._invoice(self.customer, 900.0, 10)
        self.policy.sudo().write({"contact_cap_email": 1, "contact_min_gap_hours": 0})
        with freeze_time(datetime(2026, 3, 27, 17, 0)), self.mock_mail_gateway():
            self.env["collections.send.wizard"].with_user(self.collector).with_context(
                active_model="res.partner", active_ids=self.customer.ids,
            ).create({}).action_send()
        self.level_second.sudo().delay = 8
        with self.mock_mail_gateway():
            self._run_at(MORNING_IN_LA)
        wait = self._actions(self.customer, channel="contact_wait")
        # One email on Friday 27 March 17:00 UTC: the next one from Friday 3 April 17:00 UTC (10:00 there).
        self.assertEqual(wait.postponed_until, datetime(2026, 4, 3, 17, 0))
        self.assertIn("email cap of 1 in 7 days", wait.note)

    def test_weekend_is_skipped(self):
        self._invoice(self.customer, 900.0, 10)
        saturday_noon_la = datetime(2026, 4, 4, 19, 0)
        with self.mock_mail_gateway():
            self._run_at(saturday_noon_la)
        wait = self._actions(self.customer, channel="contact_wait")
        self.assertEqual(wait.postponed_until, datetime(2026, 4, 6, 16, 0), "Monday 09:00 in Los Angeles")
        self.assertIn("not a contact day", wait.note)

    def test_rules_switched_off(self):
        self.policy.sudo().contact_rules = False
        self._invoice(self.customer, 900.0, 10)
        with self.mock_mail_gateway():
            self._run_at(NIGHT_IN_LA)
        self.assertEqual(len(self._mails_to(self.customer)), 1)

    def test_bad_rules_are_refused(self):
        with self.assertRaises(UserError):
            self.policy.with_user(self.manager).write({"contact_hour_from": 18.0, "contact_hour_to": 9.0})
        with self.assertRaises(UserError):
            self.policy.with_user(self.manager).write({name: False for name in (
                "contact_mon", "contact_tue", "contact_wed", "contact_thu", "contact_fri",
            )})

    def test_manual_sending_shows_what_the_rules_say(self):
        self._invoice(self.customer, 900.0, 10)
        with freeze_time(NIGHT_IN_LA):
            wizard = self.env["collections.send.wizard"].with_user(self.collector).with_context(
                active_model="res.partner", active_ids=self.customer.ids,
            ).create({})
            # In the user's date format, as the collector reads dates (not ISO: read on the bench's customer form).
            self.assertIn("the scheduler would wait until 03/31/2026 09:00", wizard.contact_warning)
