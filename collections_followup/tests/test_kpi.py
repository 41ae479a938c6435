import base64
from datetime import date, timedelta

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from ..models.collections_guard import server
from .common import TODAY, CollectionsCommon


class KpiBook(CollectionsCommon):
    """A small book whose KPIs were computed by hand (period: the 90 days to 31 March 2026).

    A: 1,000 dated 1 Dec 2025, due 31 Dec, paid 15 Jan.     (owed at the start of the period)
    B: 3,000 dated 10 Jan 2026, due 9 Feb, 1,000 paid 20 Feb.
    C: 2,000 dated 20 Mar 2026, due 19 Apr (not yet due at the end).
    Beginning AR 1,000; sales 5,000; ending AR 4,000 of which 2,000 not yet due.
    DSO 4000/5000*90 = 72.0; best 2000/5000*90 = 36.0; ADD 36.0;
    CEI (1000+5000-4000)/(1000+5000-2000) = 50.0 %; current 50.0 %;
    count-back: March (31 d) 2,000 covered, February (28 d) no sales, then 2,000 of
    January's 3,000: 31 + 28 + 2/3 * 31 = 79.7 days."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inv_a = cls._invoice(cls.customer, 1000.0, 90)
        cls._pay(cls.inv_a, 1000.0, date(2026, 1, 15))
        cls.inv_b = cls._invoice(cls.customer, 3000.0, 50)
        cls._pay(cls.inv_b, 1000.0, date(2026, 2, 20))
        cls.inv_c = cls._invoice(cls.customer, 2000.0, -19)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestKpiSnapshot(KpiBook):

    def test_ledger_kpis_equal_the_hand_computed_values(self):
        snapshot = self.env["collections.kpi.snapshot"].sudo()._take(self.company, TODAY)
        self.assertRecordValues(snapshot, [{
            "ar_beginning": 1000.0, "credit_sales": 5000.0, "ar_total": 4000.0, "ar_current": 2000.0,
            "ar_overdue": 2000.0, "dso": 72.0, "best_dso": 36.0, "add": 36.0, "cei": 50.0,
            "share_current": 50.0, "dso_count_back": 79.7,
        }])

    def test_unallocated_credit_note_counts_where_it_falls_due(self):
        refund = self.env["account.move"].create({
            "move_type": "out_refund", "partner_id": self.customer.id, "invoice_date": TODAY,
            "invoice_date_due": TODAY + timedelta(days=10),
            "invoice_line_ids": [(0, 0, {"name": "Goodwill", "quantity": 1, "price_unit": 500.0,
                                         "tax_ids": [(6, 0, [])]})],
        })
        refund.action_post()
        snapshot = self.env["collections.kpi.snapshot"].sudo()._take(self.company, TODAY)
        # 4,000 - 500; not yet due 2,000 - 500; overdue still B's 2,000.
        self.assertRecordValues(snapshot, [{"ar_total": 3500.0, "ar_current": 1500.0, "ar_overdue": 2000.0}])

    def test_figures_as_of_an_earlier_day(self):
        # On 31 January: A paid, B not yet due (due 9 Feb): everything current.
        snapshot = self.env["collections.kpi.snapshot"].sudo()._take(self.company, date(2026, 1, 31))
        self.assertRecordValues(snapshot, [{"ar_total": 3000.0, "ar_current": 3000.0, "share_current": 100.0}])

    def test_activity_kpis_and_one_snapshot_a_day(self):
        Promise = self.env["collections.promise"].with_user(self.collector)
        kept = Promise.create({"partner_id": self.customer.id, "amount": 100.0, "promised_date": TODAY,
                               "move_ids": [(6, 0, self.inv_b.ids)]})
        broken = Promise.create({"partner_id": self.customer.id, "amount": 100.0, "promised_date": TODAY,
                                 "move_ids": [(6, 0, self.inv_c.ids)]})
        server((kept | broken).sudo()).write({"state": "kept", "closed_date": TODAY})  # as the nightly check does
        server(broken.sudo()).write({"state": "broken"})
        self.env["collections.dispute"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.inv_b.ids)],
            "reason_id": self.env.ref("collections_followup.dispute_reason_price").id,
            "description": "Wrong unit price",
        })
        Snapshot = self.env["collections.kpi.snapshot"].sudo()
        snapshot = Snapshot._take(self.company, TODAY)
        self.assertRecordValues(snapshot, [{"promise_kept_rate": 50.0, "disputes_opened": 1, "disputes_open": 1}])
        Snapshot._cron_snapshot()
        self.assertEqual(Snapshot.search_count([("company_id", "=", self.company.id), ("date", "=", TODAY)]), 1)

    def test_companies_are_measured_separately(self):
        other = self.setup_other_company(name="KPI Second Co")
        self._invoice(self._customer("Elsewhere Ltd", "e@example.com"), 9000.0, 10, company_data=other)
        Snapshot = self.env["collections.kpi.snapshot"].sudo()
        self.assertEqual(Snapshot._take(self.company, TODAY).ar_total, 4000.0)
        self.assertEqual(Snapshot._take(other["company"], TODAY).ar_total, 9000.0)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCashExpectation(CollectionsCommon):

    def test_weeks_from_invoices_plans_and_promises(self):
        late = self._invoice(self.customer, 400.0, 10)
        soon = self._invoice(self.customer, 250.0, -8)  # due Wednesday 8 April
        planned = self._invoice(self.customer, 300.0, 40)
        plan = self.env["collections.payment.plan"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, planned.ids)], "instalment_count": 3,
            "frequency": "weekly", "first_date": TODAY + timedelta(days=1),
            "signed_document": base64.b64encode(b"%PDF-1.4 signed"),
        })
        plan.action_compute_schedule()
        plan.action_accept_paper()
        promised = self._invoice(self._customer("Promiser", "p@example.com"), 500.0, 20)
        self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": promised.partner_id.id, "amount": 500.0, "promised_date": TODAY + timedelta(days=3),
        })
        action = self.env["collections.cash.forecast"].with_user(self.collector).action_open()
        rows = self.env["collections.cash.forecast"].with_user(self.collector).search(action["domain"])
        # Due dates alone (the contractual series): what is late this week, the rest in the week it falls due; an
        # invoice under a plan or a promise once, through it.
        contractual = {(row.week, row.partner_id.name): row.contractual
                       for row in rows.filtered(lambda row: row.source == "contractual")}
        this_week, next_week = date(2026, 3, 30), date(2026, 4, 6)
        self.assertEqual(contractual, {
            (this_week, "Acme Corp"): late.amount_total + 100.0,  # and the plan's instalment of 1 April
            (next_week, "Acme Corp"): soon.amount_total + 100.0,
            (date(2026, 4, 13), "Acme Corp"): 100.0,
            (this_week, "Promiser"): 500.0,  # 3 April
        })
        self.assertEqual(sum(rows.mapped("contractual")), 400.0 + 250.0 + 300.0 + 500.0, "each amount once")
        # Expected: with no paid history in these books, in the weeks the due dates say (shaded by the doubt the
        # unpaid late invoices cast), but for what is already late (nothing here was ever paid late: not expected).
        expected = {(row.week, row.source, row.partner_id.name): row.amount
                    for row in rows.filtered(lambda row: row.source != "contractual")}
        for key, due in (((next_week, "invoice", "Acme Corp"), soon.amount_total),
                         ((this_week, "promise", "Promiser"), 500.0),
                         ((date(2026, 4, 13), "plan", "Acme Corp"), 100.0)):
            with self.subTest(key=key):
                self.assertGreater(expected[key], 0.8 * due)
                self.assertLessEqual(expected[key], due + 0.01)
        item = self.env["collections.forecast.item"].search([("move_id", "=", late.id)])
        self.assertEqual((item.expected_date, item.p90), (False, 0.0))


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestManagementReport(KpiBook):
    """The PDF and the weekly digest show the dashboard's figures (same book)."""

    def test_report_renders_the_figures_for_managers_only(self):
        wizard = self.env["collections.management.report.wizard"].with_user(self.manager).create({})
        action = wizard.action_print()
        report = self.env.ref("collections_followup.action_report_collections_management")
        html, _kind = report.with_user(self.manager)._render_qweb_html(
            report.report_name, self.company.ids, data=action["data"])
        page = html.decode()
        self.assertRegex(page, r'data-kpi="dso">\s*72\.0\s*<')
        self.assertRegex(page, r'data-kpi="promise_kept_rate">\s*—\s*<', "no promise closed: no rate, not 0 %")
        self.assertIn("Acme Corp", page)
        with self.assertRaises(AccessError):
            report.with_user(self.collector)._render_qweb_html(
                report.report_name, self.company.ids, data=action["data"])

    def test_weekly_digest_to_managers(self):
        with self.mock_mail_gateway():
            self.env["collections.dashboard"]._cron_weekly_digest()
        mails = [mail for mail in self._new_mails if self.manager.partner_id in mail.recipient_ids]
        self.assertEqual(len(mails), 1)
        self.assertIn("DSO 72.0 days", mails[0].subject)
        self.assertIn("50.0", mails[0].body_html)  # CEI
        self.assertNotIn(self.collector.partner_id, mails[0].recipient_ids)

    def test_weekly_digest_once_a_week_however_often_it_runs(self):
        """Odoo re-runs an interrupted job and a manager may run it by hand: one digest a week."""
        def digests():
            return [mail for mail in self._new_mails if self.manager.partner_id in mail.recipient_ids]

        with self.mock_mail_gateway():
            for _attempt in range(6):
                self.env["collections.dashboard"]._cron_weekly_digest()
            self.assertEqual(len(digests()), 1)
        with freeze_time(TODAY + timedelta(days=3)), self.mock_mail_gateway():  # later the same week
            self.env["collections.dashboard"]._cron_weekly_digest()
            self.assertEqual(len(digests()), 0)
        with freeze_time(TODAY + timedelta(days=7)), self.mock_mail_gateway():  # the next week
            self.env["collections.dashboard"]._cron_weekly_digest()
            self.env["collections.dashboard"]._cron_weekly_digest()
            self.assertEqual(len(digests()), 1)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCollectorProductivity(CollectionsCommon):

    def test_paid_within_14_days_after_a_reminder(self):
        invoice = self._invoice(self.customer, 1000.0, 10)
        with self.mock_mail_gateway():
            self._run()  # the first reminder: a contact on TODAY
        self._pay(invoice, 400.0, TODAY + timedelta(days=5))
        self._pay(invoice, 250.0, TODAY + timedelta(days=20))  # too late to count
        paid = self.env["collections.dashboard"]._paid_after_contact(
            self.company, TODAY - timedelta(days=1), TODAY + timedelta(days=25))
        self.assertEqual(paid, {self.collector.id: 400.0})
