from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestSmsAndOptOut(CollectionsCommon):
    """SMS through Odoo's SMS queue, phone numbers, and the customer's opt-outs per channel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"phone": "0470 12 34 56", "country_id": cls.env.ref("base.be").id})
        cls.level_first.sudo().write({"send_sms": True})

    def _sms(self, number):
        return self.env["sms.sms"].sudo().search([("number", "=", number)])

    def test_sms_is_queued_with_the_normalised_number(self):
        invoice = self._invoice(self.customer, 640.0, 10)
        with self.mock_mail_gateway():
            self._run()
        sms = self._sms("+32470123456")
        self.assertEqual(len(sms), 1, "written with the customer's country: +32")
        self.assertEqual(sms.state, "outgoing", "in Odoo's SMS queue, sent by its scheduler")
        self.assertEqual(sms.partner_id, self.customer)
        self.assertIn("640.00", sms.body)
        action = self._actions(self.customer, channel="sms")
        self.assertEqual((action.state, action.recipients), ("done", "+32470123456"))
        self.assertEqual(action.message_id.message_type, "sms")
        self.assertEqual(len(self._actions(self.customer, channel="email")), 1, "the email goes too")
        self.assertEqual(invoice.collections_level_id, self.level_first)

    def test_invalid_number_is_a_logged_failure_and_a_task(self):
        self.customer.phone = "12345"
        self.level_first.sudo().send_email = False
        invoice = self._invoice(self.customer, 640.0, 10)
        self._run()
        action = self._actions(self.customer, channel="sms")
        self.assertEqual(action.state, "failed")
        self.assertIn("12345", action.failure_reason)
        self.assertIn("not a valid number for Belgium", action.failure_reason)
        self.assertFalse(self.env["sms.sms"].sudo().search([("partner_id", "=", self.customer.id)]))
        task = self.customer.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("collections_followup.mail_activity_type_contact_fix"))
        self.assertEqual(task.summary, "Fix the customer's phone number")
        self.assertEqual(task.user_id, self.collector)
        self.assertFalse(invoice.collections_level_id, "nothing reached the customer: the level is retried")

    def test_opt_out_of_one_channel_keeps_the_others(self):
        self.customer.collections_no_email = True
        invoice = self._invoice(self.customer, 640.0, 10)
        with self.mock_mail_gateway():
            self._run()
        self.assertFalse(self._mails_to(self.customer))
        email = self._actions(self.customer, channel="email")
        self.assertEqual(email.state, "blocked")
        self.assertIn("asked not to receive payment reminders by email", email.failure_reason)
        self.assertEqual(self._actions(self.customer, channel="sms").state, "done")
        self.assertEqual(invoice.collections_level_id, self.level_first, "the SMS reached the customer")

    def test_odoo_blacklists_are_opt_outs(self):
        self.env["mail.blacklist"].sudo()._add(self.customer.email)
        self.env["phone.blacklist"].sudo().add("+32470123456")
        invoice = self._invoice(self.customer, 640.0, 10)
        with self.mock_mail_gateway():
            self._run()
        self.assertFalse(self._mails_to(self.customer))
        self.assertFalse(self._sms("+32470123456"))
        self.assertEqual(self._actions(self.customer, channel="email").state, "blocked")
        self.assertIn("phone blacklist", self._actions(self.customer, channel="sms").failure_reason)
        self.assertFalse(invoice.collections_level_id)
        task = self.customer.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("collections_followup.mail_activity_type_contact_fix"))
        self.assertIn("opted out of every reminder channel", task.summary)

    def test_no_calls_and_no_letters(self):
        self.customer.write({"collections_no_call": True, "collections_no_letter": True})
        self._invoice(self.customer, 640.0, 50)
        self.level_first.sudo().send_sms = False
        for level in (self.level_first, self.level_second):
            self._run(today=TODAY - timedelta(days=50 - level.delay))
        self.level_final.sudo().write({"print_letter": True, "create_activity": True})
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(self._actions(self.customer, channel="call").mapped("state"), ["blocked"] * 2)
        self.assertEqual(self._actions(self.customer, channel="letter").state, "blocked")
        self.assertFalse(self.customer.activity_ids.filtered(lambda a: a.activity_type_id.category == "phonecall"))
        self.assertEqual(len(self._mails_to(self.customer)), 1, "the email still goes")

    def test_manual_sending_respects_opt_outs(self):
        self.customer.collections_no_sms = True
        self._invoice(self.customer, 640.0, 10)
        wizard = self.env["collections.send.wizard"].with_user(self.collector).with_context(
            active_model="res.partner", active_ids=self.customer.ids,
        ).create({})
        self.assertIn("asked not to receive text messages", wizard.contact_warning)
        with self.mock_mail_gateway():
            wizard.action_send()
        self.assertEqual(self._actions(self.customer, channel="sms").state, "blocked")
        self.assertEqual(self._actions(self.customer, channel="email").state, "done")


@tagged("post_install", "-at_install")
@freeze_time(datetime(2026, 3, 31, 14, 0))
class TestCallOutcome(CollectionsCommon):
    """A collector logs a call; the outcome sets the next step."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({
            "phone": "+32 2 555 12 34", "country_id": cls.env.ref("base.be").id, "tz": "Europe/Brussels",
        })
        cls.invoice = cls._invoice(cls.customer, 1200.0, 30)
        cls.policy.sudo().write({"contact_rules": True, "contact_min_gap_hours": 24})

    def _call_task(self):
        return self.customer.activity_ids.filtered(lambda a: a.activity_type_id.category == "phonecall")

    def _log_call(self, **values):
        wizard = self.env["collections.call.wizard"].with_user(self.collector).with_context(
            default_partner_id=self.customer.id,
        ).create(values)
        wizard.action_log()
        return wizard

    def _call_log(self):
        return self._actions(self.customer, channel="phone")

    def test_call_task_carries_the_script(self):
        self.policy.sudo().contact_rules = False  # two runs at the same frozen instant
        self.level_second.sudo().write({"activity_note": "<p>Ask for a date.</p>"})
        self._run(today=TODAY - timedelta(days=23))
        with self.mock_mail_gateway():
            self._run()
        task = self._call_task()
        self.assertEqual(len(task), 1)
        self.assertIn("+3225551234", task.note)
        self.assertIn("1,200.00", task.note)
        self.assertIn(self.invoice.name, task.note)
        self.assertIn("Ask for a date.", task.note)
        self.assertIn("Europe/Brussels", task.note)

    def test_no_answer_reschedules_on_the_next_allowed_day(self):
        self.customer.activity_schedule("mail.mail_activity_data_call", user_id=self.collector.id)
        wizard = self._log_call(outcome="no_answer")
        self.assertEqual(wizard.phone, "+3225551234")
        log = self._call_log()
        self.assertEqual((log.call_outcome, log.user_id, log.origin), ("no_answer", self.collector, "manual"))
        task = self._call_task()
        self.assertEqual(len(task), 1, "the first task is done, a new one replaces it")
        self.assertEqual(task.date_deadline, TODAY + timedelta(days=1))
        self.assertIn("no answer", task.summary.lower())
        self.assertIn("next call 2026-04-01", log.note)

    def test_promise(self):
        self._log_call(outcome="promise", promise_amount=1200.0, promise_date=TODAY + timedelta(days=7),
                       note="Will pay next Tuesday")
        promise = self.env["collections.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((promise.amount, promise.channel, promise.state), (1200.0, "phone", "open"))
        self.assertEqual(promise.move_ids, self.invoice)
        self.assertEqual(promise.user_id, self.collector)
        self.assertEqual(self._call_log().call_outcome, "promise")
        self.assertEqual(self.customer.with_company(self.company).collections_status, "waiting",
                         "follow-up waits for the promised date")

    def test_dispute(self):
        reason = self.env["collections.dispute.reason"].search([], limit=1)
        self._log_call(outcome="dispute", dispute_reason_id=reason.id, note="Goods arrived damaged")
        dispute = self.env["collections.dispute"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((dispute.state, dispute.reason_id, dispute.description),
                         ("open", reason, "Goods arrived damaged"))
        self.assertIn(dispute.name, self._call_log().note)

    def test_wrong_number_with_and_without_the_right_one(self):
        self._log_call(outcome="wrong_number", new_phone="02 555 99 88")
        self.assertEqual(self.customer.phone, "+3225559988")
        self.assertEqual(len(self._call_task()), 1, "a call to the corrected number")
        self._call_task().action_feedback()
        self._log_call(outcome="wrong_number")
        fix = self.customer.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("collections_followup.mail_activity_type_contact_fix"))
        self.assertEqual(fix.summary, "Find the customer's right phone number")
        self.assertEqual(len(self._call_log()), 2)

    def test_call_back_at_the_time_asked(self):
        self._log_call(outcome="call_back", callback_at=datetime(2026, 4, 2, 13, 30))
        task = self._call_task()
        self.assertEqual(task.date_deadline, TODAY + timedelta(days=2))
        self.assertIn("15:30", task.summary, "13:30 UTC is 15:30 in Brussels")

    def test_bad_input_logs_nothing(self):
        cases = [
            {"outcome": "promise", "promise_amount": 0, "promise_date": TODAY + timedelta(days=3)},
            {"outcome": "promise", "promise_amount": 100, "promise_date": TODAY - timedelta(days=1)},
            {"outcome": "dispute"},
            {"outcome": "call_back", "callback_at": datetime(2026, 3, 30, 9, 0)},
            {"outcome": "wrong_number", "new_phone": "12"},
        ]
        for values in cases:
            with self.subTest(**values), self.assertRaises(UserError):
                self._log_call(**values)
        self.assertFalse(self._call_log())
        self.assertEqual(self.customer.phone, "+32 2 555 12 34")
        self.assertFalse(self.env["collections.promise"].search([("partner_id", "=", self.customer.id)]))

    def test_call_cap_is_shown_to_the_collector(self):
        self.policy.sudo().contact_cap_call = 2
        self._log_call(outcome="no_answer")
        self._log_call(outcome="no_answer")
        wizard = self.env["collections.call.wizard"].with_user(self.collector).with_context(
            default_partner_id=self.customer.id,
        ).new({})
        self.assertIn("next call is allowed from 2026-04-07", wizard.contact_warning)

    def test_salesman_cannot_log_calls(self):
        with self.assertRaises(AccessError):
            self.env["collections.call.wizard"].with_user(self.salesman).create({
                "partner_id": self.customer.id, "outcome": "reached",
            })


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestUndeliveredReminder(CollectionsCommon):
    """A reminder the mail server refused is not counted as sent (the crash tests do it with a real SMTP server)."""

    def _refuse(self, action):
        mail = self.env["mail.mail"].sudo().search([("mail_message_id", "=", action.message_id.id)])
        self.assertEqual(len(mail), 1)
        # What Odoo's mail queue does when the server refuses every recipient.
        mail.write({"state": "exception", "failure_reason": "550 Mailbox unavailable"})
        mail._postprocess_sent_message(success_pids=[], success_emails=[], failure_type="mail_smtp",
                                       failure_reason="550 Mailbox unavailable")
        return mail

    def test_refused_email_gives_the_level_back(self):
        invoice = self._invoice(self.customer, 500.0, 30)
        with self.mock_mail_gateway():
            self._run(today=TODAY - timedelta(days=23))  # 7 days late: first reminder
            self._run()  # 30 days late: second reminder
        self.assertEqual(invoice.collections_level_id, self.level_second)
        second = self._actions(self.customer, channel="email", level_id=self.level_second.id)
        mail = self._refuse(second)
        self.assertEqual((second.state, mail.state), ("failed", "exception"))
        self.assertIn("Not delivered: 550 Mailbox unavailable", second.failure_reason)
        self.assertEqual(invoice.collections_level_id, self.level_first, "back to the level before")
        self.assertEqual(invoice.collections_last_reminder_date, TODAY - timedelta(days=23))
        self.assertEqual(invoice.collections_reminder_count, 1)
        self.assertEqual(self.customer.with_company(self.company).collections_status, "action",
                         "the next run sends it again")

    def test_letter_of_the_same_step_still_counts(self):
        self.level_first.sudo().print_letter = True
        invoice = self._invoice(self.customer, 500.0, 10)
        with self.mock_mail_gateway():
            self._run()
        self._refuse(self._actions(self.customer, channel="email"))
        self.assertEqual(invoice.collections_level_id, self.level_first, "the letter reached the customer")
