from datetime import timedelta

from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestSegments(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.strict = cls.env["collections.policy"].with_user(cls.manager).create({
            "name": "Firm follow-up", "company_id": cls.company.id,
            "level_ids": [(0, 0, {"name": "Immediate reminder", "delay": 1,
                                  "mail_template_id": cls.level_first.mail_template_id.id})],
        })
        cls.high_risk = cls.env.ref("collections_followup.segment_high_risk")
        cls.high_risk.with_user(cls.manager).with_company(cls.company).policy_id = cls.strict

    def _segment(self):
        self.env["collections.segment"]._cron_segment_customers()

    def test_late_payer_gets_the_segment_policy_and_manual_choice_wins(self):
        # Invoiced for a year, everything paid 60 days late or still open 100 days late.
        for months in range(2, 12):
            invoice = self._invoice(self.customer, 1000.0, 30 * months)
            self._pay(invoice, 1000.0, invoice.invoice_date_due + timedelta(days=60))
        self._invoice(self.customer, 500.0, 100)
        self._segment()
        partner = self.customer.with_company(self.company).with_user(self.collector)
        self.assertEqual(partner.collections_segment_id, self.high_risk)
        self.assertLess(partner.collections_score, 35)
        self.assertEqual(partner.collections_effective_policy_id, self.strict)
        aging = self.env["collections.aging.report"].with_user(self.collector).search(
            [("partner_id", "=", self.customer.id)], limit=1)
        self.assertEqual(aging.segment_id, self.high_risk)
        # A policy chosen by hand wins over the segment's.
        partner.collections_policy_id = self.policy
        partner.invalidate_recordset()
        self.assertEqual(partner.collections_effective_policy_id, self.policy)

    def test_good_payer_is_reliable_and_keeps_the_default_policy(self):
        for months in range(1, 12):
            invoice = self._invoice(self.customer, 800.0, 30 * months)
            self._pay(invoice, 800.0, invoice.invoice_date_due)
        self._segment()
        partner = self.customer.with_company(self.company).with_user(self.collector)
        self.assertEqual(partner.collections_segment_id, self.env.ref("collections_followup.segment_reliable"))
        self.assertEqual(partner.collections_score, 100)
        self.assertEqual(partner.collections_effective_policy_id, self.policy)

    def test_usual_delay_gives_the_expected_payment_date(self):
        paid = self.env["account.move"]
        for days in (60, 90, 120):
            invoice = self._invoice(self.customer, 1000.0, days)
            self._pay(invoice, 1000.0, invoice.invoice_date_due + timedelta(days=20))
            paid |= invoice
        upcoming = self._invoice(self.customer, 1000.0, -10)
        self._segment()
        # (3 x 1000 x 20 days + 1000 x 0 days, still not due) / 4000 = 15 days.
        self.assertEqual(self.customer.with_company(self.company).collections_usual_delay, 15)
        upcoming = upcoming.with_user(self.billing)
        self.assertEqual(upcoming.collections_predicted_date, TODAY + timedelta(days=25), "due in 10 days + 15")
        self.assertFalse(paid[0].with_user(self.billing).collections_predicted_date, "paid: nothing to expect")
