from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, freeze_time, tagged

from .common import TODAY, CollectionsCommon

# The receivable accounts, the open items, draft invoices (grouped), the company's hierarchy (its root's path) and
# the records they need: the same for 1 or 60 invoices.
EXPOSURE_QUERIES = 7


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCredit(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.account_use_credit_limit = True
        cls.customer.with_company(cls.company).sudo().credit_limit = 1000.0

    def _hold(self, partners, mode="hold", reason="Payment history", user=None):
        wizard = self.env["collections.hold.wizard"].with_user(user or self.manager).with_context(
            active_model="res.partner", active_ids=partners.ids,
        ).create({"mode": mode, "reason": reason})
        return wizard.action_apply()

    def test_exposure_parts_in_company_currency(self):
        posted = self._invoice(self.customer, 1000.0, 10)
        self._pay(posted, 300.0)
        self._invoice(self.customer, 200.0, -20, post=False)
        other = self.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        self._invoice(self.customer, 100.0, -20, currency=other)
        partner = self.customer.with_user(self.salesman)
        self.assertEqual(partner.collections_exposure_receivable, 750.0)  # 700 + 100 EUR / 2
        self.assertEqual(partner.collections_exposure_draft, 200.0)
        self.assertEqual(partner.collections_exposure_orders, 0.0)
        self.assertEqual(partner.collections_exposure, 950.0)
        self.assertEqual(partner.collections_credit_available, 50.0)
        self.assertEqual(partner.collections_credit_state, "amber")
        self.assertIn("95% of its credit limit", partner.collections_credit_message)

    def test_exposure_queries_do_not_grow_with_invoices(self):
        few = self._customer("One Invoice Ltd", "one@example.com")
        self._invoice(few, 100.0, 5)
        for index in range(60):
            self._invoice(self.customer, 10.0 + index, index % 90 - 20, post=index % 6 != 0)
        for partner in (few, self.customer):
            self.env.invalidate_all()
            with self.assertQueryCount(EXPOSURE_QUERIES):
                self.env["res.partner"]._collections_exposures(self.company, partner)

    def test_only_managers_hold_release_and_change_limits(self):
        with self.assertRaises(AccessError):
            self._hold(self.customer, user=self.collector)
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).with_company(self.company).write({"credit_limit": 99999.0})
        with self.assertRaises(AccessError):
            self.customer.with_user(self.billing).write({"collections_credit_hold": False})
        self._hold(self.customer)
        partner = self.customer.with_user(self.salesman)
        self.assertTrue(partner.collections_credit_hold)
        self.assertEqual(partner.collections_credit_state, "red")
        self.assertIn("Payment history", partner.collections_credit_message)
        log = self._actions(self.customer, channel="hold")
        self.assertEqual(log.user_id, self.manager)
        self._hold(self.customer, mode="release", reason="Paid in full")
        self.assertFalse(self.customer.collections_credit_hold)
        self.assertIn("Paid in full", self._actions(self.customer, channel="release").note)

    def test_invoice_posting_blocked_when_the_policy_says_so_and_overridden_once(self):
        self.policy.with_user(self.manager).block_invoice_posting = True
        self._hold(self.customer)
        blocked = self._invoice(self.customer, 50.0, -30, post=False)
        with self.assertRaisesRegex(UserError, "on credit hold.*Collections Manager"):
            blocked.with_user(self.billing).action_post()
        self.assertEqual(blocked.state, "draft")
        with self.assertRaises(AccessError):
            self.env["collections.override.wizard"].with_user(self.collector).with_context(
                **self.env["collections.override.wizard"]._open_for(blocked)["context"]
            ).create({"reason": "x"}).action_override()
        form = Form(self.env["collections.override.wizard"].with_user(self.manager).with_context(
            **blocked.action_collections_override()["context"]
        ))
        form.reason = "Cash received at the counter"
        form.save().action_override()
        self.assertEqual(blocked.collections_override_user_id, self.manager)
        blocked.with_user(self.billing).action_post()
        self.assertEqual(blocked.state, "posted")
        override = self._actions(self.customer, channel="override")
        self.assertEqual(override.move_ids, blocked)
        # The hold stays for every other invoice, copies included.
        with self.assertRaises(UserError):
            blocked.copy().with_user(self.billing).action_post()

    def test_a_sales_receipt_is_blocked_as_an_invoice(self):
        """Found from outside: a sales receipt (out_receipt) for a held customer was posted."""
        self.policy.with_user(self.manager).block_invoice_posting = True
        self._hold(self.customer)
        receipt = self.env["account.move"].create({
            "move_type": "out_receipt", "partner_id": self.customer.id,
            "invoice_line_ids": [(0, 0, {"name": "Goods", "quantity": 1, "price_unit": 5000.0, "tax_ids": []})],
        })
        with self.assertRaisesRegex(UserError, "on credit hold"):
            receipt.with_user(self.billing).action_post()
        self.assertEqual(receipt.state, "draft")

    def test_a_credit_limit_is_not_set_through_a_default(self):
        """Found from outside: a collector created customers with a limit through default_credit_limit."""
        Partner = self.env["res.partner"].with_user(self.collector)
        with self.assertRaisesRegex(AccessError, "change credit limits"):
            Partner.with_context(default_credit_limit=123456).create({"name": "Defaulted"})
        self.env["ir.default"].with_user(self.collector).set("res.partner", "credit_limit", 777.0, user_id=True)
        with self.assertRaisesRegex(AccessError, "change credit limits"):
            Partner.create({"name": "Defaulted too"})

    def test_invoice_over_limit_blocked_only_in_block_mode(self):
        self.policy.with_user(self.manager).block_invoice_posting = True
        self._invoice(self.customer, 900.0, -30)
        big = self._invoice(self.customer, 200.0, -30, post=False)
        big.action_post()  # warn mode: allowed
        self.policy.with_user(self.manager).credit_limit_mode = "block"
        bigger = self._invoice(self.customer, 300.0, -30, post=False)
        with self.assertRaisesRegex(UserError, "over its credit limit"):
            bigger.action_post()

    def test_follow_up_level_puts_on_hold_and_payment_releases(self):
        self.level_final.with_user(self.manager).credit_hold = True
        invoice = self._invoice(self.customer, 800.0, 60)
        self._reached(invoice, self.level_second, TODAY - timedelta(days=30))
        with self.mock_mail_gateway():
            self._run()
        self.assertTrue(self.customer.collections_credit_hold)
        self.assertEqual(self.customer.collections_hold_origin, "level")
        self._pay(invoice, 800.0)
        self._run(today=TODAY + timedelta(days=1))
        self.assertFalse(self.customer.collections_credit_hold)
        self.assertIn("nothing overdue left, net of its credits", self._actions(self.customer, channel="release").note)

    def test_daily_run_holds_over_limit_customers_in_block_mode(self):
        self.policy.with_user(self.manager).credit_limit_mode = "block"
        invoice = self._invoice(self.customer, 1500.0, -20)
        self._run()
        self.assertTrue(self.customer.collections_credit_hold)
        self.assertEqual(self.customer.collections_hold_origin, "limit")
        self._pay(invoice, 800.0)
        self._run(today=TODAY + timedelta(days=1))
        self.assertFalse(self.customer.collections_credit_hold, "back under the limit: released")

    def test_credit_review_proposes_from_payment_history_and_keeps_the_history(self):
        for amount, days_late_at_due, paid_days_ago in ((1200.0, 170, 160), (3600.0, 120, 120), (1200.0, 70, 30)):
            invoice = self._invoice(self.customer, amount, days_late_at_due)
            self._pay(invoice, amount, TODAY - timedelta(days=paid_days_ago))
        partner = self.customer.with_user(self.manager)
        self.assertEqual(partner.collections_invoiced_12m, 6000.0)
        self.assertEqual(partner.collections_paid_on_time, 60.0)
        self.assertEqual(partner.collections_avg_days_late, 10.0)
        self.assertEqual(partner.collections_worst_days_late, 40)
        self.assertEqual(partner.collections_proposed_limit, 500.0)  # one month of 6000 / 12
        with self.assertRaises(AccessError):
            self.customer.with_user(self.collector).action_collections_approve_limit()
        partner.action_collections_approve_limit()
        self.assertEqual(self.customer.with_company(self.company).credit_limit, 500.0)
        history = self.customer.with_user(self.manager).collections_limit_history_ids
        self.assertEqual(history.mapped("new_limit"), [500.0, 1000.0], "newest first; 1000 was set up by the test")
        latest = history[0]
        self.assertEqual((latest.old_limit, latest.new_limit, latest.user_id), (1000.0, 500.0, self.manager))
        self.assertIn("Credit review", latest.reason)

    def test_cash_only_proposal_holds_the_customer_instead_of_lifting_the_limit(self):
        """0 means "no limit" in Odoo: approving "cash only" must block, never unlimit."""
        self.company.account_use_credit_limit = True
        self.customer.with_user(self.manager).write({"credit_limit": 2000.0})
        invoice = self._invoice(self.customer, 1200.0, 130)  # paid 100 days late
        self._pay(invoice, 1200.0, TODAY - timedelta(days=30))
        partner = self.customer.with_user(self.manager).with_company(self.company)
        self.assertTrue(partner.collections_proposed_cash_only)
        self.assertEqual(partner.collections_proposed_limit, 0.0)
        self.assertEqual(partner.collections_proposed_display, "Cash only", "the review says it, not '0.00'")
        partner.action_collections_approve_limit()
        self.assertEqual(partner.sudo().credit_limit, 2000.0, "the limit is not turned into 'no limit'")
        self.assertTrue(partner.collections_credit_hold)
        self.assertEqual(partner.collections_hold_origin, "cash")
        self.assertIn("Cash only", self._actions(self.customer, channel="hold").note)
        # every check honours it: a new invoice is blocked when the policy blocks invoices...
        self.policy.with_user(self.manager).block_invoice_posting = True
        with self.assertRaisesRegex(UserError, "on credit hold"):
            self._invoice(self.customer, 10.0, -30)
        # ...and the daily run does not release it (only a manager does)
        self._run(today=TODAY + timedelta(days=1))
        self.assertTrue(partner.collections_credit_hold)

    def test_hold_release_hold_on_the_same_day_is_logged_each_time(self):
        self.policy.with_user(self.manager).credit_limit_mode = "block"
        first = self._invoice(self.customer, 1500.0, -20)
        self._run()
        self._pay(first, 1500.0)
        self._run()
        self._invoice(self.customer, 1200.0, -20)
        self._run()
        self.assertTrue(self.customer.collections_credit_hold)
        self.assertEqual(len(self._actions(self.customer, channel="hold")), 2)
        self.assertEqual(len(self._actions(self.customer, channel="release")), 1)
