from odoo.tests import Form, freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestManualFollowup(CollectionsCommon):

    def _wizard(self, partners, user=None):
        return self.env["collections.send.wizard"].with_user(user or self.collector).with_context(
            active_model="res.partner", active_ids=partners.ids,
        )

    def test_collector_previews_edits_and_sends(self):
        invoice = self._invoice(self.customer, 1200.0, 10)
        form = Form(self._wizard(self.customer))
        self.assertEqual(form.level_id, self.level_first)
        self.assertIn(invoice.name, form.body)
        self.assertIn("acme@example.com", form.recipients)
        self.assertIn(invoice.name, form.attachment_names)
        form.subject = "Overdue invoice: please call us"
        wizard = form.save()
        with self.mock_mail_gateway():
            wizard.action_send()
        self.assertEqual(wizard.state, "done")
        self.assertEqual(wizard.result, "sent")
        mails = self._mails_to(self.customer)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails[0].subject, "Overdue invoice: please call us")
        action = self._actions(self.customer, channel="email")
        self.assertEqual(action.origin, "manual")
        self.assertEqual(action.user_id, self.collector)
        self.assertEqual(invoice.collections_level_id, self.level_first)
        # The scheduler does not send the same level again today.
        self.assertEqual(self._run(), 0)

    def test_choosing_another_level_renders_its_template(self):
        self._invoice(self.customer, 1200.0, 10)
        form = Form(self._wizard(self.customer))
        form.level_id = self.level_final
        self.assertIn("Final notice", form.body)
        self.assertTrue(form.print_letter)
        self.assertTrue(form.create_activity)
        wizard = form.save()
        action = wizard.action_preview_letter()
        self.assertEqual(action["report_name"], "collections_followup.report_followup_letter")
        self.assertEqual(action["data"], {"level_id": self.level_final.id, "move_ids": wizard.move_ids.ids})
        # The preview prints what the wizard shows: the final notice, for its invoices.
        html, _kind = self.env["ir.actions.report"].with_user(self.collector)._render_qweb_html(
            action["report_name"], self.customer.ids, data=action["data"])
        self.assertIn("Final notice", html.decode())
        for move in wizard.move_ids:
            self.assertIn(move.name, html.decode())
        self.assertFalse(self._actions(self.customer), "a preview logs nothing")

    def test_mass_send_reports_each_customer(self):
        silent = self._customer("No Mail Inc", False)
        paid_up = self._customer("Paid Up Ltd", "paid@example.com")
        self._invoice(self.customer, 500.0, 10)
        self._invoice(silent, 300.0, 10)
        wizard = self._wizard(self.customer | silent | paid_up).create({})
        self.assertTrue(wizard.mass)
        self.assertEqual(len(wizard.line_ids), 3)
        with self.mock_mail_gateway():
            wizard.action_send()
        results = {line.partner_id: line.result for line in wizard.line_ids}
        self.assertEqual(results, {self.customer: "sent", silent: "failed", paid_up: "skipped"})
        self.assertEqual(wizard.result_summary, "1 sent, 1 failed, 1 skipped.")
        self.assertEqual(len(self._mails_to(self.customer)), 1)
        self.assertFalse(self._mails_to(paid_up))
