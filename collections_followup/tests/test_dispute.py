from datetime import timedelta

from odoo.exceptions import UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestDispute(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.disputed = cls._invoice(cls.customer, 800.0, 30)
        cls.undisputed = cls._invoice(cls.customer, 200.0, 30)
        cls.reason = cls.env.ref("collections_followup.dispute_reason_quality")

    def _dispute(self, user=None, moves=None, **values):
        return self.env["collections.dispute"].with_user(user or self.collector).create({
            "partner_id": self.customer.id,
            "move_ids": [(6, 0, (moves or self.disputed).ids)],
            "reason_id": self.reason.id,
            "description": "Half of the pallets arrived broken",
            **values,
        })

    def test_dispute_pauses_only_its_invoice_and_the_log_says_so(self):
        dispute = self._dispute()
        self.assertEqual(dispute.deadline, TODAY + timedelta(days=21), "the reason's days to resolve")
        with self.mock_mail_gateway():
            self._run()
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(self.undisputed.name, body)
        self.assertNotIn(self.disputed.name, body)
        email = self._actions(self.customer, channel="email")
        self.assertEqual(email.move_ids, self.undisputed)
        self.assertIn(f"Left out, disputed: {self.disputed.name} ({dispute.name})", email.note)
        self.assertFalse(self.disputed.collections_level_id)

    def test_collector_is_told_of_a_dispute_opened_by_someone_else(self):
        dispute = self._dispute(user=self.billing)
        task = dispute.with_user(self.collector).activity_ids
        self.assertEqual(task.user_id, self.collector)
        self.assertIn(dispute.name, task.summary)
        log = self._actions(self.customer, channel="dispute")
        self.assertIn("Half of the pallets arrived broken", log.note)
        self.assertEqual(log.user_id, self.billing)

    def test_reject_needs_an_explanation_and_resumes_follow_up(self):
        dispute = self._dispute()
        with self.assertRaisesRegex(UserError, "resolution"):
            dispute.action_reject()
        dispute.resolution = "Delivery note signed without reservation by the customer."
        dispute.action_reject()
        self.assertEqual(dispute.state, "rejected")
        with self.mock_mail_gateway():
            self._run()
        self.assertIn(self.disputed.name, self._mails_to(self.customer)[0].body_html)

    def test_credit_note_resolves_the_dispute_once_posted(self):
        dispute = self._dispute()
        action = dispute.with_user(self.collector).action_credit_note()
        wizard = self.env["account.move.reversal"].with_user(self.collector).with_context(**action["context"]).create({
            "reason": "Broken pallets",
            "journal_id": self.disputed.journal_id.id,
        })
        wizard.refund_moves()
        credit_note = dispute.credit_note_ids
        self.assertEqual(credit_note.state, "draft")
        self.assertEqual(dispute.state, "review", "resolved only when the credit note is posted")
        credit_note.action_post()
        self.assertEqual(dispute.state, "resolved")
        self.assertIn(credit_note.name, dispute.resolution)

    def test_overdue_disputes_are_flagged(self):
        dispute = self._dispute()
        Dispute = self.env["collections.dispute"]
        self.assertFalse(dispute.is_overdue)
        with freeze_time(TODAY + timedelta(days=22)):
            dispute.invalidate_recordset(["is_overdue"])
            self.assertTrue(dispute.is_overdue)
            self.assertIn(dispute, Dispute.search([("is_overdue", "=", True)]))

    def test_dispute_on_some_lines_counts_those_lines(self):
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id, "invoice_date": TODAY,
            "invoice_line_ids": [
                (0, 0, {"name": "Pallets", "quantity": 1, "price_unit": 700.0, "tax_ids": [(6, 0, [])]}),
                (0, 0, {"name": "Transport", "quantity": 1, "price_unit": 300.0, "tax_ids": [(6, 0, [])]}),
            ],
        })
        invoice.action_post()
        transport = invoice.invoice_line_ids.filtered(lambda line: line.name == "Transport")
        dispute = self._dispute(moves=invoice, line_ids=[(6, 0, transport.ids)])
        self.assertEqual(dispute.amount_disputed, 300.0)
        with self.assertRaisesRegex(ValidationError, "must belong to the disputed invoices"):
            self._dispute(line_ids=[(6, 0, transport.ids)])

    def test_invoices_of_another_customer_are_refused(self):
        other = self._customer("Other Co", "other@example.com")
        foreign = self._invoice(other, 50.0, 10)
        with self.assertRaisesRegex(ValidationError, "Only posted customer invoices of Acme Corp"):
            self._dispute(moves=foreign)

    def test_a_credit_note_of_another_invoice_does_not_resolve_the_dispute(self):
        """The dispute comes from a context key any RPC client may send: only credit notes of its own invoices
        count (found from outside: another customer's credit note resolved a dispute)."""
        dispute = self._dispute()
        stranger = self._customer("Stranger Ltd", "stranger@example.com")
        other_invoice = self._invoice(stranger, 300.0, 10)
        wizard = self.env["account.move.reversal"].with_user(self.collector).with_context(
            active_model="account.move", active_ids=other_invoice.ids, collections_dispute_id=dispute.id,
        ).create({"reason": "Not about the dispute", "journal_id": other_invoice.journal_id.id})
        wizard.refund_moves()
        self.assertFalse(dispute.credit_note_ids)
        self.assertEqual(dispute.state, "open")
