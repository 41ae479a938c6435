from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestWriteoff(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bad_debt = cls.company_data["default_account_expense"]
        cls.policy.with_user(cls.manager).writeoff_account_id = cls.bad_debt
        cls.invoice = cls._invoice(cls.customer, 1000.0, 200)
        cls._pay(cls.invoice, 250.0)

    def _wizard(self, user, moves=None, reason="Customer declared insolvent; nothing to recover"):
        return self.env["collections.writeoff.wizard"].with_user(user).with_context(
            default_move_ids=(moves or self.invoice).ids,
        ).create({"reason": reason})

    def test_manager_writes_off_with_a_balanced_reconciled_entry(self):
        dispute = self.env["collections.dispute"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.invoice.ids)],
            "reason_id": self.env.ref("collections_followup.dispute_reason_other").id,
            "description": "Says the service was never used",
        })
        agency = self.env["res.partner"].create({"name": "Agency", "collections_is_agency": True})
        case = self.env["collections.case"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.invoice.ids)], "agency_id": agency.id,
        })
        case.with_user(self.manager).action_approve()
        wizard = self._wizard(self.manager)
        self.assertEqual(wizard.account_id, self.bad_debt, "the policy's write-off account by default")
        self.assertEqual(wizard.amount, 750.0)
        action = wizard.action_apply()
        entry = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(entry.state, "posted")
        self.assertAlmostEqual(sum(entry.line_ids.mapped("debit")), 750.0)
        self.assertAlmostEqual(sum(entry.line_ids.mapped("credit")), 750.0)
        self.assertAlmostEqual(sum(entry.line_ids.filtered(lambda line: line.account_id == self.bad_debt)
                                   .mapped("balance")), 750.0)
        self.assertEqual(self.invoice.payment_state, "paid")
        self.assertTrue(all(self.invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable").mapped("reconciled")))
        log = self._actions(self.customer, channel="writeoff")
        self.assertIn("insolvent", log.note)
        self.assertEqual(log.amount, 750.0, "what was written off")
        self.assertEqual((log.amount_due, log.amount_overdue), (0.0, 0.0), "what the customer owes after it")
        self.assertEqual(dispute.state, "resolved", "the dispute closes with the write-off")
        self.assertEqual(case.state, "uncollectable", "and so does the agency case")

    def test_only_managers_write_off(self):
        for user in (self.collector, self.billing):
            with self.assertRaises(AccessError):
                self._wizard(user).action_apply()
        self.assertEqual(self.invoice.payment_state, "partial")

    def test_paid_invoice_or_missing_reason_is_refused(self):
        paid = self._invoice(self.customer, 100.0, 10)
        self._pay(paid, 100.0)
        with self.assertRaisesRegex(UserError, "Only open, posted customer invoices"):
            self._wizard(self.manager, moves=paid).action_apply()
        with self.assertRaisesRegex(UserError, "reason"):
            self._wizard(self.manager, reason="   ").action_apply()
        self.assertEqual(self.invoice.payment_state, "partial", "nothing half-written")
