from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CollectionsCommon

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
        report = self.env.ref("collections_followup.action_report_followup_letter").with_context(
            collections_level_id=self.level_first.id, collections_move_ids=self.invoice.ids,
        )
        page, _kind = report._render_qweb_html(report.report_name, self.customer.ids)
        self._assert_escaped(page.decode(), "letter")
        task = self.customer.activity_ids.filtered(lambda a: a.activity_type_id.category == "phonecall")
        self._assert_escaped(str(task.note), "call script")
        sms = self.env["sms.sms"].sudo().search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(sms), 1)
        self.assertNotIn("<", sms.body.replace("&lt;", ""), "an SMS is plain text")

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
