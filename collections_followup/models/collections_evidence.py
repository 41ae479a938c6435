"""What the log points to is evidence: sealed when it is logged, then changed by nobody.

A log entry (collections.action) that points to a message (a reminder, a statement, a letter's
note) or to a document (a letter's PDF) keeps a SHA-256 digest of what went out: the subject,
the body, the recipients, and the contents of every attachment. Nobody but the addon's server
code (collections_guard.server) may then edit or delete that message or those attachments, not
even superuser code: Odoo's message editing (author's edit, the chatter) and attachment
replacement are refused. The nightly self-check recomputes every digest.

What the log points to is also the customer's correspondence about its debts: once logged it is marked
``collections_private`` and read only by billing users, accountants and collectors (record rules in
security/collections_security.xml), not by every employee who reads the customer (a salesperson).
"""
import hashlib
import json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .collections_guard import is_server

# What makes a message what it is, where it is and who sees it (its read marks, stars and reactions are not).
MESSAGE_CONTENT = frozenset({
    "body", "subject", "attachment_ids", "partner_ids", "author_id", "email_from", "message_type", "date",
    "reply_to", "model", "res_id", "is_internal", "subtype_id",
})
# What makes an attachment what it is, where it is and who may open it.
ATTACHMENT_CONTENT = frozenset({
    "datas", "raw", "db_datas", "store_fname", "checksum", "file_size", "url", "type", "name", "mimetype",
    "res_model", "res_id", "public", "access_token",
})


def digest(message, attachment, recipients):
    """SHA-256 (hex) of what a log entry records as sent: ``message`` (mail.message or empty), its
    attachments and ``attachment`` (ir.attachment or empty), ``recipients`` (the entry's own text: the
    addresses it went to)."""
    files = (message.attachment_ids | attachment).sorted("id")
    payload = {
        "subject": message.subject or "",
        "body": str(message.body or ""),
        "where": [message.model or "", message.res_id or 0, bool(message.is_internal)],
        "recipients": recipients or "",
        "attachments": [[file.name or "", hashlib.sha256(file.raw or b"").hexdigest(), file.res_model or "",
                         file.res_id or 0, bool(file.public)] for file in files],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _sealed(env, query):
    """True when the query (SELECT of ids) finds evidence; flushes the log first."""
    env["collections.action"].flush_model(["message_id", "attachment_id"])
    return bool(env.execute_query(query))


def _mark_private(messages, files):
    """Mark what the log points to as collections correspondence (one UPDATE per table for a batch)."""
    for records in (messages, files):
        if records:
            records.env.execute_query(SQL(
                "UPDATE %s SET collections_private = TRUE WHERE id = ANY(%s) AND collections_private IS NOT TRUE",
                SQL.identifier(records._table), list(records.ids)))
            records.invalidate_recordset(["collections_private"])


class CollectionsSealedMixin(models.AbstractModel):
    """What a log entry may point to: changed or deleted by nobody but the addon's server code once it is."""

    _name = "collections.sealed.mixin"
    _description = "Collections: evidence the log points to"

    # The fields that make a record what it is (a write that touches none of them is let through).
    _collections_sealed_fields = frozenset()

    collections_private = fields.Boolean(
        string="Collections Correspondence", readonly=True, copy=False,
        help="Sent to a customer about its debts (in the collections log): read by billing users, accountants and "
             "collectors only.",
    )

    def _collections_sealed(self):
        """True when a log entry points to one of these records."""
        raise NotImplementedError

    def _collections_sealed_error(self):
        raise NotImplementedError

    def _collections_refuse_if_sealed(self):
        if not is_server(self.env) and self._collections_sealed():
            raise UserError(self._collections_sealed_error())

    def write(self, vals):
        if "collections_private" in vals and not is_server(self.env):
            raise UserError(self.env._("Only Collections marks what it sent as collections correspondence."))
        if self._collections_sealed_fields.intersection(vals):
            self._collections_refuse_if_sealed()
        return super().write(vals)

    def unlink(self):
        self._collections_refuse_if_sealed()
        return super().unlink()


class MailMessage(models.Model):
    _name = "mail.message"
    _inherit = ["mail.message", "collections.sealed.mixin"]

    _collections_sealed_fields = MESSAGE_CONTENT

    def _collections_sealed(self):
        if not self.ids:
            return False
        return _sealed(self.env, SQL(
            "SELECT 1 FROM collections_action WHERE message_id = ANY(%s) LIMIT 1", list(self.ids)))

    def _collections_sealed_error(self):
        return self.env._("This message is in the collections log as what was sent to the customer: it cannot be "
                          "changed or deleted. Post a new message instead.")


class IrAttachment(models.Model):
    _name = "ir.attachment"
    _inherit = ["ir.attachment", "collections.sealed.mixin"]

    _collections_sealed_fields = ATTACHMENT_CONTENT

    def _collections_sealed(self):
        """Itself, or through the message it is attached to."""
        ids = [attachment_id for attachment_id in self.ids if isinstance(attachment_id, int)]
        if not ids:
            return False
        return _sealed(self.env, SQL(
            """
            SELECT 1 FROM collections_action WHERE attachment_id = ANY(%(ids)s)
             UNION ALL
            SELECT 1 FROM message_attachment_rel rel
              JOIN collections_action entry ON entry.message_id = rel.message_id
             WHERE rel.attachment_id = ANY(%(ids)s)
             LIMIT 1
            """, ids=ids,
        ))

    def _collections_sealed_error(self):
        return self.env._("This document is in the collections log as what was sent to the customer: it cannot be "
                          "replaced or deleted.")


class CollectionsAction(models.Model):
    _inherit = "collections.action"

    digest = fields.Char(
        string="Seal (SHA-256)", readonly=True, copy=False,
        help="SHA-256 of what was sent (subject, body, recipients, attachments' contents), taken when it was "
             "logged; the nightly self-check compares it with what is stored.",
    )

    @api.model
    def _collections_seal(self, vals_list):
        """Add the digest of what each entry points to (message, document) to its values, in place."""
        sealed = [vals for vals in vals_list if vals.get("message_id") or vals.get("attachment_id")]
        if not sealed:
            return
        # sudo: the entries' own messages and documents, read to seal them.
        Message, Attachment = self.env["mail.message"].sudo(), self.env["ir.attachment"].sudo()
        messages = Message.browse({vals["message_id"] for vals in sealed if vals.get("message_id")})
        messages.fetch(["subject", "body", "attachment_ids", "model", "res_id", "is_internal"])
        # every file sealed, in one read (queries do not grow with the batch)
        files = messages.attachment_ids | Attachment.browse({vals["attachment_id"] for vals in sealed
                                                              if vals.get("attachment_id")})
        files.fetch(["name", "res_model", "res_id", "public", "store_fname", "db_datas", "type", "url"])
        for vals in sealed:
            vals["digest"] = digest(Message.browse(vals.get("message_id") or ()),
                                    Attachment.browse(vals.get("attachment_id") or ()), vals.get("recipients"))
        _mark_private(messages, files)

    def _collections_broken_seals(self):
        """The entries among these (sealed ones) whose message or document no longer matches its seal."""
        broken = self.browse()
        for entry in self.sudo().filtered("digest"):
            message, attachment = entry.message_id.exists(), entry.attachment_id.exists()
            missing = (entry.message_id and not message) or (entry.attachment_id and not attachment)
            if missing or digest(message, attachment, entry.recipients) != entry.digest:
                broken |= entry
        return broken

    @api.model
    def _collections_check_seals(self, company, batch=500):
        """Every sealed entry of ``company`` checked against what is stored now: the broken ones."""
        broken = self.browse()
        last_id = 0
        while True:
            entries = self.sudo().search([("company_id", "=", company.id), ("digest", "!=", False),
                                          ("id", ">", last_id)], order="id", limit=batch)
            if not entries:
                return broken
            broken |= entries._collections_broken_seals()
            last_id = entries[-1].id
            entries.invalidate_recordset()
            self.env["mail.message"].invalidate_model()
            self.env["ir.attachment"].invalidate_model()
