"""A customer's email reply to a follow-up, through Odoo's mail gateway.

Odoo routes a reply by its In-Reply-To/References to the record the answered message is on: the customer
(reminders, letters, the send wizard) or an arrangement (plans, promises, settlements, disputes, cases). The
gateway stores it there and notifies who it notifies; Collections then makes the reply count: a task for the
collector, a pause of the automatic reminders (the policy's days), a log entry. Automatic replies (out of
office, vacation responders, mailing robots) are stored by Odoo but pause nothing and make no task."""
from datetime import timedelta

from odoo import fields, models
from odoo.tools import html2plaintext

from .collections_guard import server

# How far up a conversation a reply is traced to the follow-up it answers (a reply to a reply...).
MAX_DEPTH = 20
# Precedence values that mark a robot's mail (RFC 3834 advises responders to set them).
ROBOT_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}


def is_automatic(message):
    """Whether an email (``email.message.Message``) was sent by a program rather than a person: RFC 3834's
    Auto-Submitted header, the X-Autoreply/X-Autorespond headers of common responders, Microsoft's
    X-Auto-Response-Suppress (set on its out-of-office replies), a robot's Precedence."""
    if (message.get("Auto-Submitted") or "no").strip().lower() != "no":
        return True
    if any(message.get(header) for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")):
        return True
    precedence = (message.get("Precedence") or message.get("X-Precedence") or "").strip().lower()
    return precedence in ROBOT_PRECEDENCE


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    def _message_route_process(self, message, message_dict, routes):
        thread_id = super()._message_route_process(message, message_dict, routes)
        if message_dict.get("message_id") and not message_dict.get("is_bounce"):
            # sudo: the gateway's own messages, just stored (one per route).
            stored = self.env["mail.message"].sudo().search([
                ("message_id", "=", message_dict["message_id"]), ("message_type", "=", "email"),
            ])
            self.env["collections.reply"]._collections_register(stored, automatic=is_automatic(message))
        return thread_id


class CollectionsReply(models.AbstractModel):
    _name = "collections.reply"
    _description = "Customer Replies to Follow-ups"

    def _collections_register(self, messages, automatic=False):
        """Make these incoming emails count where they answer a follow-up (see the module's docstring)."""
        for message in messages:
            found = self._collections_answered(message)
            if not found:
                continue
            customer, company = found
            # An employee answering by email is not the customer speaking.
            if message.author_id and message.author_id.user_ids.filtered(lambda user: not user.share):
                continue
            self.with_company(company)._collections_handle(message, customer, company, automatic)

    def _collections_answered(self, message):
        """(customer, company) of the follow-up this email answers, or None when it answers none.

        On an arrangement or a case, every email is about the customer's debt. On a customer, the email
        must answer (directly or down a conversation) a message the collections log recorded as sent."""
        if not message.model or not message.res_id:
            return None
        record = self.env[message.model].sudo().browse(message.res_id).exists()
        if not record:
            return None
        if isinstance(record, self.pool["collections.arrangement.mixin"]):
            return record.partner_id.commercial_partner_id, record.company_id
        if message.model != "res.partner":
            return None
        ancestors, parent = [], message.parent_id
        while parent and len(ancestors) < MAX_DEPTH:
            ancestors.append(parent.id)
            parent = parent.parent_id
        # sudo: the log is read to know whether an answered message was a follow-up (one query).
        actions = self.env["collections.action"].sudo().search([("message_id", "in", ancestors)])
        # The nearest follow-up up the conversation says which company's it is.
        action = min(actions, key=lambda entry: ancestors.index(entry.message_id.id), default=None)
        return (record.commercial_partner_id, action.company_id) if action else None

    def _collections_manager(self, company):
        """Who reads a reply when nobody collects the customer: the company's first Collections Manager."""
        group = self.env.ref("collections_followup.group_collections_manager")
        # sudo: the users of a group, to assign the task.
        return self.env["res.users"].sudo().search([
            ("all_group_ids", "in", group.ids), ("company_ids", "in", company.ids), ("share", "=", False),
        ], order="id", limit=1)

    def _collections_handle(self, message, customer, company, automatic):
        today = fields.Date.context_today(self)
        excerpt = html2plaintext(message.body or "").strip()[:300]
        sender = message.email_from or message.author_id.display_name or ""
        if automatic:
            self.env["collections.action"]._collections_log({
                "partner_id": customer.id, "company_id": company.id, "channel": "reply", "origin": "customer",
                "note": self.env._("Automatic reply from %(sender)s (out of office or a robot): no pause, no task.",
                                   sender=sender),
            })
            return
        policy = customer._collections_policy(company)
        days = policy.reply_pause_days
        pause_note = ""
        if days > 0:
            until = today + timedelta(days=days)
            current = customer.sudo().with_company(company).collections_postponed_until
            if not current or current < until:
                reason = self.env._("Customer replied on %(date)s", date=fields.Date.to_string(today))
                # server: the postponement is the addon's to write; the reply is why.
                server(customer.sudo().with_company(company)).write({
                    "collections_postponed_until": until, "collections_postpone_reason": reason,
                })
                pause_note = self.env._("Automatic reminders wait until %(date)s.", date=fields.Date.to_string(until))
            else:
                pause_note = self.env._("Follow-up already postponed until %(date)s.",
                                        date=fields.Date.to_string(current))
        collector = customer._collections_collector(company)
        activity_type = self.env.ref("collections_followup.mail_activity_type_reply")
        open_task = self.env["mail.activity"].sudo().search([
            ("res_model", "=", "res.partner"), ("res_id", "=", customer.id),
            ("activity_type_id", "=", activity_type.id),
        ], limit=1)
        if not open_task:
            customer.sudo().activity_schedule(
                "collections_followup.mail_activity_type_reply",
                user_id=(collector or self._collections_manager(company)).id or self.env.uid,
                summary=self.env._("Customer replied: %(subject)s", subject=message.subject or excerpt[:60]),
                note=excerpt,
            )
        self.env["collections.action"]._collections_log({
            "partner_id": customer.id, "company_id": company.id, "channel": "reply", "origin": "customer",
            "message_id": message.id,
            "note": " ".join(filter(None, [
                self.env._("Reply from %(sender)s: %(excerpt)s", sender=sender, excerpt=excerpt), pause_note,
            ])),
        })
