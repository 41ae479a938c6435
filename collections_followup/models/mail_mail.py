from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        """A reminder that no recipient received is not a reminder sent: its log entry turns
        failed and the invoices go back to their previous level, so the next run sends again."""
        if failure_type and not success_pids and not success_emails:
            message_ids = self.mail_message_id.ids
            if message_ids:
                # sudo: the mail queue (any user's transaction) records a delivery outcome on
                # the log entries of exactly these messages; nothing is read back to the user.
                self.env["collections.action"].sudo()._mark_undelivered(
                    message_ids, failure_reason or failure_type,
                )
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type,
        )
