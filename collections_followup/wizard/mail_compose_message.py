from odoo import models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail(self, auto_commit=False):
        """A statement sent with the statement template is a Collections Log entry (channel Statement), so
        that the customer's reply to it counts as a reply to a follow-up."""
        result_mails_su, result_messages = super()._action_send_mail(auto_commit=auto_commit)
        template = self.env.ref("collections_followup.mail_template_statement", raise_if_not_found=False)
        if template and any(wizard.template_id == template for wizard in self):
            entries = [{
                "partner_id": message.res_id, "channel": "statement", "origin": "manual", "message_id": message.id,
                "recipients": ", ".join(message.partner_ids.mapped("email_formatted")),
            } for message in result_messages if message.model == "res.partner"]
            if entries:
                self.env["collections.action"]._collections_log(entries)
        return result_mails_su, result_messages
