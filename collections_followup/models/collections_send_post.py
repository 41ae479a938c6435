import base64

from markupsafe import escape

from odoo import models
from odoo.tools import clean_context, split_every


class CollectionsSend(models.AbstractModel):
    """A batch's reminder emails posted at once (collections.send): the messages in one create, their queued
    emails in one create, their notifications in one create, each built by the same methods of Odoo's mail
    thread that message_post uses for a single email (recipients, layout, headers, references), so that a
    customer's message, email and notification are those message_post would make.

    A message whose recipients are not all notified by email (an internal user of the customer's, a follower
    of its notes) goes through Odoo's own notification, unchanged."""

    _inherit = "collections.send"

    def _post_emails(self, emails):
        """Post ``emails`` on their records' chatters as message_post would post each (see _post_email):
        a list of dicts with the arguments of _post_email (record, subject, body, recipients, author,
        attachments, options). Returns the messages, in the same order. Nothing is sent before the
        transaction commits: the emails are queued (Odoo's mail queue sends them)."""
        if not emails:
            return self.env["mail.message"]
        note = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        records, values_list = [], []
        for email in emails:
            record = email["record"].with_context(
                mail_notify_force_send=False, mail_post_autofollow=False)._fallback_lang()
            options = dict(email.get("options") or {})
            notify = {key: options.pop(key) for key in list(options) if key not in self.env["mail.message"]._fields}
            record._raise_for_invalid_parameters(set(notify), restricting_names=record._get_notify_valid_parameters())
            author = email["author"]
            author_id, email_from = record._message_compute_author(author.id, self._email_from(author))
            values = {
                **options,
                "email_add_signature": True,
                "email_layout_xmlid": "mail.mail_notification_light",
                "author_id": author_id,
                "author_guest_id": False,
                "email_from": email_from,
                "model": record._name,
                "res_id": record.id,
                "body": escape(email["body"]),
                "message_type": "comment",
                "parent_id": record._message_compute_parent_id(False),
                "subject": email["subject"] or False,
                "subtype_id": note,
                "partner_ids": email["recipients"].ids,
                "incoming_email_to": False,
                "incoming_email_cc": False,
                "outgoing_email_to": False,
            }
            if "record_alias_domain_id" not in values:
                values["record_alias_domain_id"] = record.sudo()._mail_get_alias_domains(
                    default_company=self.env.company)[record.id].id
            if "record_company_id" not in values:
                values["record_company_id"] = record._mail_get_companies(default=self.env.company)[record.id].id
            if "reply_to" not in values:
                values["reply_to"] = record._notify_get_reply_to(default=email_from, author_id=author_id)[record.id]
            records.append((record, notify))
            values_list.append(values)
        self._attach(records, values_list, [list(email.get("attachments") or ()) for email in emails])
        # The records' own low-level create, as message_post makes it (in the records' environment).
        messages = records[0][0].browse()._message_create(values_list)
        mails = []
        for (record, notify), message, values in zip(records, messages, values_list, strict=True):
            record._message_post_after_hook(message, values)
            recipients = record._notify_get_recipients(message, msg_vals=values)
            if any(data["notif"] != "email" for data in recipients):
                # An internal user or a follower with another way of being notified: Odoo's own notification.
                record._notify_thread(message, values, **notify)
                continue
            record._notify_thread_with_out_of_office(message, recipients, msg_vals=values)
            if recipients:
                # A new message has no tracking values: the layout need not search for them.
                mails += self._notify_by_email(record, message, dict(values, tracking_value_ids=[]), recipients,
                                               notify)
        # sudo: queued emails and their notifications, as Odoo's notification creates them
        Mail = self.env["mail.mail"].sudo().with_context(clean_context(self.env.context))
        created = Mail.create([values for values, _notifications in mails])
        notification_values = [dict(values, mail_mail_id=mail.id)
                                for mail, (_values, of_mail) in zip(created, mails, strict=True) for values in of_mail]
        self.env["mail.notification"].sudo().with_context(clean_context(self.env.context)).create(
            notification_values)
        self._keep_links_out_of_chatter(messages)
        return messages

    def _attach(self, records, values_list, attachments):
        """Each message's ``attachments`` [(name, bytes)] made as message_post makes them
        (_process_attachments_for_post), in one create for the batch: their ``attachment_ids`` in
        ``values_list``. An email with other attachments (text, a content id) or whose body shows an image
        by name goes through Odoo's own method."""
        plain, extras, owners = [], [], []
        for (record, _notify), values, files in zip(records, values_list, attachments, strict=True):
            body = str(values["body"])
            if any(len(item) != 2 or not isinstance(item[1], bytes) for item in files) \
                    or "cid:" in body or "data-filename" in body:
                values.update(record._process_attachments_for_post(files, [], values))
                continue
            values["attachment_ids"] = []
            for name, content in files:
                plain.append({"name": name, "datas": base64.b64encode(content), "type": "binary",
                              "description": name, "res_model": values["model"], "res_id": values["res_id"]})
                extras.append((False, name, False, {}))
                owners.append(values)
        if plain:
            created = records[0][0]._create_attachments_for_post(plain, extras)
            for values, attachment in zip(owners, created, strict=True):
                values["attachment_ids"].append((4, attachment.id))

    def _notify_by_email(self, record, message, values, recipients, notify):
        """What Odoo's _notify_thread_by_email makes for ``message`` (its recipients all notified by email, not
        sent at once): [(mail values, [its notifications' values])], created with the batch's."""
        mails = []
        base = record._notify_by_email_get_base_mail_values(
            message, recipients, additional_values={"auto_delete": notify.get("mail_auto_delete", True)})
        base_notification = record._notify_by_email_get_base_notification_values(message)
        size = int(self.env["ir.config_parameter"].sudo().get_param("mail.batch_size") or 0) or 50
        groups = record._notify_get_classified_recipients_iterator(
            message, recipients, msg_vals=values, model_description=notify.get("model_description", False))
        for _lang, render_values, group in groups:
            body = record._notify_by_email_render_layout(message, group, msg_vals=values, render_values=render_values)
            for chunk in split_every(size, group["recipients_ids"]):
                mail = record._notify_by_email_get_final_mail_values(chunk, base, additional_values={"body_html": body})
                mails.append((mail, [dict(base_notification, res_partner_id=pid) for pid in chunk]))
            if group["recipients_emails"]:
                mail = record._notify_by_email_get_final_mail_values([], base, additional_values={"body_html": body})
                mail["email_to"] = ",".join(group["recipients_emails"])
                mails.append((mail, [dict(base_notification, mail_email_address=address)
                                     for address in group["recipients_emails"]]))
        return mails

    def _withdraw(self, message):
        """Take back an email posted for a customer whose follow-up was then rolled back (its own savepoint):
        the message, its queued email, notifications and attachments. Nothing has left: the batch's emails
        are sent only after its transaction commits."""
        # sudo: the batch's own message, posted in this transaction
        message = message.sudo().exists()
        if message:
            self.env["mail.mail"].sudo().search([("mail_message_id", "in", message.ids)]).unlink()
            message.attachment_ids.unlink()
            message.unlink()
