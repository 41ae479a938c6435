from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
class TestAgingReport(CollectionsCommon):
    """The SQL view ages with the database's date: no freeze_time here."""

    def _late(self, partner, amount, days_late_today, **kwargs):
        shift = (fields.Date.today() - TODAY).days
        return self._invoice(partner, amount, days_late_today - shift, **kwargs)

    def _ledger_open_receivable(self, company):
        lines = self.env["account.move.line"].search([
            ("company_id", "=", company.id),
            ("account_id.account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ])
        return round(sum(lines.mapped("amount_residual")), 2)

    def test_buckets_and_totals_equal_the_ledger(self):
        other = self._customer("Second Customer", "second@example.com")
        # Bucket values sort by age: "0" not due, "1" 1-30, ... "5" over 120.
        expected = {"0": 100.0, "1": 200.0, "2": 300.0, "3": 400.0, "4": 500.0, "5": 600.0}
        for late, amount in ((-5, 100.0), (1, 200.0), (60, 300.0), (61, 400.0), (120, 500.0), (121, 600.0)):
            self._late(self.customer, amount, late)
        partial = self._late(other, 1000.0, 45)
        self._pay(partial, 250.0, fields.Date.today())
        self._late(other, 80.0, 10, post=False)  # draft: not in the ledger, not in the report
        Report = self.env["collections.aging.report"].with_user(self.collector)
        rows = Report.search([("partner_id", "=", self.customer.id)])
        by_bucket = {bucket: sum(rows.filtered(lambda r, b=bucket: r.bucket == b).mapped("amount_residual"))
                     for bucket in expected}
        self.assertEqual(by_bucket, expected)
        groups = Report._read_group([], ["partner_id"], ["amount_residual:sum"])
        totals = {partner: amount for partner, amount in groups}
        self.assertEqual(totals[other], 750.0, "partial payments count by residual")
        report_total = round(sum(totals.values()), 2)
        self.assertEqual(report_total, self._ledger_open_receivable(self.company))
        self.assertEqual(rows.filtered(lambda r: r.bucket == "5").days_late, 121)
        self.assertEqual(rows[:1].collector_id, self.collector)

    def test_companies_are_separate_and_salespeople_have_no_access(self):
        company_2_data = self.setup_other_company(name="Aging Second Co")
        self._late(self.customer, 300.0, 10)
        self._late(self.customer, 700.0, 10, company_data=company_2_data)
        rows = self.env["collections.aging.report"].with_user(self.collector).search([])
        self.assertEqual(rows.company_id, self.company, "the collector sees only its company")
        self.assertEqual(sum(rows.mapped("amount_residual")), self._ledger_open_receivable(self.company))
        with self.assertRaises(AccessError):
            self.env["collections.aging.report"].with_user(self.salesman).search([])
