import io
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged
from odoo.tools.pdf import PdfReader

from .common import TODAY, CollectionsCommon

HOSTILE = '<script>alert("x")</script> Müller & Söhne 株式会社 <b>bold</b>'
ESCAPED = "&lt;script&gt;alert"


@tagged("post_install", "-at_install")
class TestHostileInput(CollectionsCommon, HttpCase):
    """Names and references with HTML and unicode reach customers escaped, never as markup.

    No freeze_time: the portal page is served on the real clock (invoices are long overdue)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"name": HOSTILE, "phone": "+32 2 555 12 34"})
        cls.invoice = cls._invoice(cls.customer, 321.0, 30, post=False)
        cls.invoice.write({"ref": '<img src=x onerror="alert(1)">', "payment_reference": "<i>ref</i> €"})
        cls.invoice.action_post()
        cls.portal_user = new_test_user(
            cls.env, login="portal_hostile", name="Hostile Portal", email="hostile@example.com",
            groups="base.group_portal", password="portal_hostile",
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    def _assert_escaped(self, text, where):
        self.assertNotIn("<script>", text, where)
        self.assertNotIn("<img src=x", text, where)
        self.assertIn(ESCAPED, text, f"{where}: the name is shown, escaped")

    def test_reminder_email_letter_sms_and_call_script(self):
        level = self.level_first.sudo()
        level.write({"print_letter": True, "send_sms": True, "create_activity": True,
                     "activity_type_id": self.env.ref("mail.mail_activity_data_call").id})
        with self.mock_mail_gateway():
            self._run()
        mail = self._mails_to(self.customer)[0]
        self._assert_escaped(mail.body_html, "email")
        self.assertIn("Müller &amp; Söhne 株式会社", mail.body_html)
        report = self.env.ref("collections_followup.action_report_followup_letter")
        page, _kind = report._render_qweb_html(report.report_name, self.customer.ids, data={
            "level_id": self.level_first.id, "move_ids": self.invoice.ids})
        self._assert_escaped(page.decode(), "letter")
        task = self.customer.activity_ids.filtered(lambda a: a.activity_type_id.category == "phonecall")
        self._assert_escaped(str(task.note), "call script")
        sms = self.env["sms.sms"].sudo().search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(sms), 1)
        self.assertNotIn("<", sms.body.replace("&lt;", ""), "an SMS is plain text")

    def test_letter_pdf_renders(self):
        """wkhtmltopdf prints the letter of a customer named with markup and accents (its HTML is
        checked escaped above; the PDF was looked at: the name printed as text, accents intact)."""
        self.customer.name = '<script>alert("x")</script> Müller & Söhne Łódź Ωmega'
        report = self.env.ref("collections_followup.action_report_followup_letter").with_context(
            force_report_rendering=True)
        content, kind = report._render_qweb_pdf(report.report_name, self.customer.ids, data={
            "level_id": self.level_first.id, "move_ids": self.invoice.ids})
        self.assertEqual(kind, "pdf")
        self.assertEqual(len(PdfReader(io.BytesIO(content)).pages), 1, "one page, nothing broke the layout")

    def test_portal_pages(self):
        plan = self.env["collections.payment.plan"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.invoice.ids)], "instalment_count": 2,
            "first_date": fields.Date.context_today(self.env.user) + timedelta(days=5),
        })
        plan.action_compute_schedule()
        plan.action_propose()
        self.authenticate("portal_hostile", "portal_hostile")
        page = self.url_open("/my/collections")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.invoice.name, page.text)
        self.assertNotIn('<script>alert("x")</script>', page.text)
        page = self.url_open(plan.access_url)
        self.assertEqual(page.status_code, 200)
        self.assertNotIn('<script>alert("x")</script>', page.text)
        self.assertIn("&lt;script&gt;alert", page.text, "the customer's name is on the acceptance form, escaped")

    def test_malformed_portal_input_is_refused(self):
        self.authenticate("portal_hostile", "portal_hostile")
        page = self.url_open("/my/collections")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        tomorrow = str(fields.Date.context_today(self.env.user) + timedelta(days=1))
        cases = [
            {"promised_date": "2026-02-30", "amount": "100"},
            {"promised_date": "garbage", "amount": "100"},
            {"promised_date": tomorrow, "amount": "NaN"},
            {"promised_date": tomorrow, "amount": "1e309"},
            {"promised_date": tomorrow, "amount": "-5"},
            {"promised_date": tomorrow, "amount": "<b>1</b>"},
        ]
        for values in cases:
            with self.subTest(**values):
                answer = self.url_open("/my/collections/promise", data={"csrf_token": token, **values})
                self.assertEqual(answer.status_code, 200)
                self.assertIn("alert-danger", answer.text)
        answer = self.url_open("/my/collections/dispute", data={
            "csrf_token": token, "invoice_id": "1 OR 1=1", "reason_id": "x", "description": "<script>x</script>",
        })
        self.assertIn("Choose one of your open invoices", answer.text)
        self.env.invalidate_all()
        self.assertFalse(self.env["collections.promise"].sudo().search([("partner_id", "=", self.customer.id)]))
        self.assertFalse(self.env["collections.dispute"].sudo().search([("partner_id", "=", self.customer.id)]))


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestBadInput(CollectionsCommon):
    """Configuration and data a finance team will meet: each gets a defined, logged outcome."""

    def test_deleted_email_template_fails_cleanly(self):
        invoice = self._invoice(self.customer, 500.0, 10)
        self.level_first.mail_template_id.with_user(self.manager).sudo().unlink()
        with self.mock_mail_gateway():
            self._run()
        action = self._actions(self.customer, channel="email")
        self.assertEqual(action.state, "failed")
        self.assertIn("has no email template", action.failure_reason)
        self.assertFalse(self._mails_to(self.customer))
        self.assertFalse(invoice.collections_level_id, "not counted as sent: tried again tomorrow")

    def test_archived_customer_is_a_logged_failure_not_a_silent_success(self):
        invoice = self._invoice(self.customer, 500.0, 10)
        self.customer.with_user(self.collector).active = False
        with self.mock_mail_gateway():
            self._run()
        # Odoo notifies no archived contact: the reminder must not be logged as sent.
        self.assertFalse(self._mails_to(self.customer))
        action = self._actions(self.customer, channel="email")
        self.assertEqual(action.state, "failed")
        self.assertIn("The customer is archived", action.failure_reason)
        self.assertFalse(invoice.collections_level_id)
        self.assertEqual(self.customer.collections_status, "action", "its debt is still followed up")

    def test_huge_amount(self):
        invoice = self._invoice(self.customer, 999_999_999_999.99, 10)
        with self.mock_mail_gateway():
            self._run()
        self.assertIn("999,999,999,999.99", self._mails_to(self.customer)[0].body_html)
        self.assertEqual(invoice.collections_level_id, self.level_first)

    def _contact_fix_task(self, partner):
        kind = self.env.ref("collections_followup.mail_activity_type_contact_fix")
        return partner.activity_ids.filtered(lambda a: a.activity_type_id == kind)

    def test_letter_to_a_customer_without_address(self):
        self.level_first.sudo().write({"send_email": False, "print_letter": True})
        self.customer.write({"street": False, "zip": False, "city": False})
        invoice = self._invoice(self.customer, 500.0, 10)
        self._run()
        letter = self._actions(self.customer, channel="letter")
        self.assertEqual(letter.state, "failed")
        self.assertIn("no postal address", letter.failure_reason)
        self.assertFalse(self.env["ir.attachment"].search([
            ("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id), ("mimetype", "=", "application/pdf"),
        ]), "no letter printed for a blank envelope")
        self.assertFalse(invoice.collections_level_id, "not counted as sent")
        self.assertEqual(self._contact_fix_task(self.customer).summary, "Complete the customer's postal address")
        # A collector sending by hand is told before sending.
        wizard = self.env["collections.send.wizard"].with_user(self.collector).with_context(
            active_model="res.partner", active_ids=self.customer.ids,
        ).create({})
        self.assertIn("no postal address", wizard.contact_warning)
        # Once the address is complete, the next day's run posts the letter.
        self.customer.write({"street": "Rue Haute 5", "zip": "1000"})
        self._run(today=TODAY + timedelta(days=1))
        letter = self._actions(self.customer, channel="letter", state="done")
        self.assertTrue(letter.attachment_id.raw)
        self.assertEqual(invoice.collections_level_id, self.level_first)

    def test_net_credit_and_paid_invoices_are_not_chased(self):
        """A customer whose credit notes exceed its overdue invoices owes nothing: no reminder."""
        self._invoice(self.customer, 500.0, 10)
        self.env["account.move"].create({
            "move_type": "out_refund", "partner_id": self.customer.id, "invoice_date": TODAY - timedelta(days=40),
            "invoice_line_ids": [(0, 0, {"name": "Returned goods", "quantity": 1, "price_unit": 800.0,
                                         "tax_ids": [(6, 0, [])]})],
        }).action_post()
        paid_customer = self._customer("Paid Up Ltd", "paid@example.com")
        self._pay(self._invoice(paid_customer, 300.0, 20), 300.0)
        with self.mock_mail_gateway():
            self._run()
        for partner in (self.customer, paid_customer):
            self.assertFalse(self._actions(partner).filtered(lambda entry: entry.channel != "review"), partner.name)
            self.assertEqual(partner.collections_status, "none")
        # Its credit covers its overdue invoice: an accountant is asked to apply it (logged), nothing is sent.
        self.assertIn("unapplied credits cover everything overdue", self._actions(self.customer).note)
        self.assertFalse(self._actions(paid_customer))
        self.assertEqual(self.customer.collections_total_due, -300.0, "the credit is shown, not hidden")
        self.assertFalse(self._mails_to(self.customer))

    def test_foreign_currency_without_any_rate(self):
        """Odoo books an invoice in a currency without rates at 1:1; the reminder goes out in the
        invoice's currency and the totals use the amounts as booked (no rate needed at run time)."""
        currency = self.env["res.currency"].sudo().create({
            "name": "XRN", "symbol": "R$X", "rounding": 0.01, "active": True,
        })
        self.assertFalse(currency.rate_ids)
        invoice = self._invoice(self.customer, 750.0, 10, currency=currency)
        with self.mock_mail_gateway():
            self._run()
        action = self._actions(self.customer, channel="email")
        self.assertEqual(action.state, "done")
        self.assertIn("750.00", self._mails_to(self.customer)[0].body_html)
        self.assertEqual(invoice.collections_level_id, self.level_first)
        self.assertEqual(self.customer.collections_total_overdue, invoice.amount_residual_signed)

    def test_company_without_policy_is_left_alone(self):
        """A company whose default policy was removed gets no follow-up, and collectors are told why."""
        company_2 = self.setup_other_company(name="No Policy Co")
        policies = self.env["collections.policy"].sudo().search([("company_id", "=", company_2["company"].id)])
        policies.unlink()
        customer = self._customer("Elsewhere Ltd", "elsewhere@example.com")
        self._invoice(customer, 400.0, 30, company_data=company_2)
        with self.mock_mail_gateway():
            self.env["collections.run"].sudo()._cron_run_followups()
        self.assertFalse(self.env["collections.action"].sudo().search([("partner_id", "=", customer.id)]))
        self.assertFalse(self._mails_to(customer))
        self.assertEqual(customer.with_company(company_2["company"]).collections_status, "none")
        self.manager.sudo().company_ids |= company_2["company"]
        wizard = self.env["collections.send.wizard"].with_user(self.manager).with_company(
            company_2["company"],
        ).with_context(
            active_model="res.partner", active_ids=customer.ids,
        ).create({})
        self.assertIn("no follow-up policy", wizard.warning)
        wizard.action_send()
        self.assertEqual(wizard.result, "skipped")
        self.assertFalse(self.env["collections.action"].sudo().search([("partner_id", "=", customer.id)]))

    def test_malformed_date_through_rpc_writes_nothing(self):
        self._invoice(self.customer, 500.0, 10)
        with self.assertRaises(ValueError):
            self.env["collections.call.wizard"].with_user(self.collector).create({
                "partner_id": self.customer.id, "outcome": "promise", "promise_amount": 10.0,
                "promise_date": "2026-02-30",
            }).action_log()
        self.assertFalse(self._actions(self.customer, channel="phone"))
        self.assertFalse(self.env["collections.promise"].search([("partner_id", "=", self.customer.id)]))
