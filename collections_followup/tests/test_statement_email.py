from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import Form, freeze_time, tagged
from odoo.tools import SQL, html2plaintext

from ..models.res_partner_mail import Reminder
from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestStatementEmail(CollectionsCommon):
    """The statement of account by email: from the customer (Odoo's composer, PDF and spreadsheet, logged)
    and attached to a level's reminders; a reminder says what it attaches, and only that."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._invoice(cls.customer, 1200.0, 10)
        cls.payables = cls.env["res.partner"].create({
            "name": "Payables Desk", "parent_id": cls.customer.id, "email": "payables@acme.example.com",
            "collections_followup_role": "to",
        })

    def test_collector_emails_the_statement_from_the_customer(self):
        action = self.customer.with_user(self.collector).action_collections_email_statement()
        composer = Form(self.env["mail.compose.message"].with_user(self.collector).with_context(**action["context"]))
        self.assertIn("statement of account", composer.subject)
        self.assertEqual(composer.partner_ids[:], self.payables)
        names = [attachment.name for attachment in composer.attachment_ids]
        self.assertTrue(any(name.endswith(".xlsx") for name in names), names)
        self.assertIn(f"Statement Acme Corp {TODAY}.pdf", names)
        with self.mock_mail_gateway():
            composer.save().action_send_mail()
        mails = self._mails_to(self.payables)
        self.assertEqual(len(mails), 1)
        self.assertEqual(len(mails[0].attachment_ids), 2)

        entry = self._actions(self.customer, channel="statement")
        self.assertEqual(len(entry), 1)
        self.assertEqual((entry.user_id, entry.origin), (self.collector, "manual"))
        self.assertIn("payables@acme.example.com", entry.recipients)
        self.assertEqual(entry.message_id.model, "res.partner")
        # An email with another template from the same composer is not a statement.
        with self.mock_mail_gateway():
            Form(self.env["mail.compose.message"].with_user(self.collector).with_context(
                default_model="res.partner", default_res_ids=self.customer.ids, default_composition_mode="comment",
                default_partner_ids=self.payables.ids, default_body="<p>Hello</p>", default_subject="Hi",
            )).save().action_send_mail()
        self.assertEqual(len(self._actions(self.customer, channel="statement")), 1)

    def test_a_discarded_email_leaves_nothing_on_the_customer(self):
        Attachment = self.env["ir.attachment"]
        on_customer = [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        before = Attachment.search(on_customer)
        action = self.customer.with_user(self.collector).action_collections_email_statement()
        drafts = Attachment.browse(action["context"]["default_attachment_ids"])
        self.assertEqual(len(drafts), 2)
        self.assertEqual(set(drafts.mapped("res_model")), {"mail.compose.message"})
        self.assertEqual(Attachment.search(on_customer), before, "nothing on the customer before the email is sent")
        # The collector closes the composer: the drafts are removed a day later, not before.
        self.env["res.partner"]._gc_collections_statement_drafts()
        self.assertTrue(drafts.exists())
        self._two_days_old(drafts)
        self.env["res.partner"]._gc_collections_statement_drafts()
        self.assertFalse(drafts.exists())
        self.assertEqual(Attachment.search(on_customer), before)

    def test_a_sent_statement_is_on_the_customers_message(self):
        action = self.customer.with_user(self.collector).action_collections_email_statement()
        drafts = self.env["ir.attachment"].browse(action["context"]["default_attachment_ids"])
        with self.mock_mail_gateway():
            Form(self.env["mail.compose.message"].with_user(self.collector).with_context(
                **action["context"])).save().action_send_mail()
        message = self._actions(self.customer, channel="statement").message_id
        self.assertEqual(message.attachment_ids, drafts)
        self.assertEqual((set(drafts.mapped("res_model")), set(drafts.mapped("res_id"))),
                         ({"res.partner"}, {self.customer.id}))
        self._two_days_old(drafts)
        self.env["res.partner"]._gc_collections_statement_drafts()
        self.assertEqual(len(drafts.exists()), 2, "a statement sent is kept")

    def _two_days_old(self, attachments):
        # create_date is the database's clock (not freeze_time's): moved back there.
        self.env.cr.execute(SQL("UPDATE ir_attachment SET create_date = create_date - interval '2 days' "
                                "WHERE id IN %s", tuple(attachments.ids)))
        attachments.invalidate_recordset(["create_date"])

    def test_a_salesperson_cannot_email_the_statement(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).action_collections_email_statement()

    def test_a_level_attaches_the_statement_to_its_reminder(self):
        self.level_first.sudo().attach_statement = True
        with self.mock_mail_gateway():
            self._run()
        mails = self._mails_to(self.payables)
        self.assertEqual(len(mails), 1)
        names = mails[0].attachment_ids.mapped("name")
        self.assertIn(f"Statement {self.customer.name} {TODAY}.pdf", names)
        self.assertTrue(any(name != f"Statement {self.customer.name} {TODAY}.pdf" for name in names),
                        "the invoice PDF is still attached")
        self.assertIn("The invoices and a statement of your account are attached to this email.",
                      html2plaintext(mails[0].body_html))

    def test_a_reminder_says_the_invoices_are_attached_only_when_they_are(self):
        said = {}
        for invoices, statement in ((True, False), (False, True), (False, False)):
            self.level_first.sudo().write({"attach_invoices": invoices, "attach_statement": statement})
            self.env.invalidate_all()
            body = self.env["collections.send"]._render_emails(
                self.level_first.mail_template_id, {self.customer: self._reminder()})[self.customer.id][1]
            said[invoices, statement] = [line for line in html2plaintext(body).splitlines() if "attached" in line]
            self.assertIn("You can view and pay each invoice online with the links above.", html2plaintext(body))
        self.assertEqual(said, {
            (True, False): ["The invoices are attached to this email."],
            (False, True): ["A statement of your account is attached to this email."],
            (False, False): [],
        })
        # The run with Attach Invoices off: nothing attached, nothing said.
        with self.mock_mail_gateway():
            self._run()
        mails = self._mails_to(self.payables)
        self.assertEqual(len(mails), 1)
        self.assertFalse(mails[0].attachment_ids)
        self.assertNotIn("attached", html2plaintext(mails[0].body_html))

    def test_a_reminder_listing_no_invoice_does_not_say_invoices_are_attached(self):
        """An opening balance entered as a journal entry has no PDF to attach: the reminder does not claim one."""
        migrated = self._customer("Migrated Ltd", "ap@migrated.example.com")
        entry = self.env["account.move"].create({
            "move_type": "entry", "journal_id": self.company_data["default_journal_misc"].id,
            "date": TODAY - timedelta(days=50),
            "line_ids": [
                (0, 0, {"name": "Opening balance", "debit": 900.0, "partner_id": migrated.id,
                        "date_maturity": TODAY - timedelta(days=20),
                        "account_id": self.company_data["default_account_receivable"].id}),
                (0, 0, {"name": "Opening balance", "credit": 900.0,
                        "account_id": self.company_data["default_account_revenue"].id}),
            ],
        })
        entry.action_post()
        # Odoo leaves journal entries out of follow-up unless told (no_followup): the accountant includes it.
        entry.line_ids.filtered(lambda line: line.partner_id).no_followup = False
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(self._actions(migrated, channel="email").move_ids, entry, "reminded of the entry")
        mails = self._mails_to(migrated)
        self.assertEqual(len(mails), 1)
        self.assertFalse(mails[0].attachment_ids)
        self.assertNotIn("attached", html2plaintext(mails[0].body_html))

    def _reminder(self):
        decision = self.env["collections.run"]._decide_all(
            self.company, TODAY, partner_ids=self.customer.ids)[self.customer.id][1]
        return Reminder(self.level_first.id, tuple(decision.listed_move_ids))
