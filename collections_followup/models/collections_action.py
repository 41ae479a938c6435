from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.pdf import merge_pdf

from .collections_guard import is_server, server

CALL_OUTCOMES = [
    ("reached", "Reached"),
    ("no_answer", "No Answer"),
    ("promise", "Promise to Pay"),
    ("dispute", "Dispute"),
    ("wrong_number", "Wrong Number"),
    ("call_back", "Call Back Later"),
]

# Channels the scheduler uses at most once per customer and day.
SCHEDULER_CHANNELS = ("email", "sms", "letter", "call", "review")

CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("letter", "Letter"),
    ("call", "Call Task"),
    ("phone", "Phone Call"),
    ("contact_wait", "Waiting for Contact Rules"),
    ("review", "Review Request"),
    ("postpone", "Postponement"),
    ("contact_fix", "Contact Fix Task"),
    ("hold", "Credit Hold"),
    ("release", "Hold Released"),
    ("override", "Credit Override"),
    ("override_void", "Credit Override Voided"),
    ("plan", "Payment Plan"),
    ("promise", "Promise to Pay"),
    ("settlement", "Settlement"),
    ("defer", "Deferral"),
    ("dispute", "Dispute"),
    ("fee", "Late Fee"),
    ("writeoff", "Write-off"),
    ("case", "Escalation"),
    ("reply", "Customer Reply"),
    ("statement", "Statement"),
    ("account_link", "Account Link"),
]


class CollectionsAction(models.Model):
    """One interaction with a customer about what it owes.

    Written once by the scheduler or the manual follow-up, never edited:
    the log is evidence (for the customer, an agency or a court). No role
    creates, changes or deletes entries: :meth:`_collections_log` is the one
    writer, and it sets who, when and from where itself."""

    _name = "collections.action"
    _inherit = ["collections.guard.mixin"]
    _description = "Collection Action"
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    action_date = fields.Date(
        string="Run Date", required=True, readonly=True, default=fields.Date.context_today,
        help="Day of the follow-up run; a customer is handled by the scheduler once a day.",
    )
    policy_id = fields.Many2one("collections.policy", readonly=True, index="btree_not_null")
    level_id = fields.Many2one("collections.level", readonly=True, index="btree_not_null")
    move_ids = fields.Many2many(
        "account.move", "collections_action_account_move_rel", "action_id", "move_id",
        string="Invoices", readonly=True,
    )
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    origin = fields.Selection(
        [("scheduler", "Scheduler"), ("manual", "Manual"), ("customer", "Customer")], required=True, readonly=True,
        default="manual", help="Customer: the customer's own doing (an email reply).",
    )
    user_id = fields.Many2one(
        "res.users", string="Done By", readonly=True, default=lambda self: self.env.user,
    )
    state = fields.Selection(
        [("done", "Done"), ("failed", "Failed"), ("blocked", "Not Allowed"), ("waiting", "Waiting")], required=True,
        readonly=True, default="done",
        help="Not Allowed: the customer asked not to be contacted on this channel. Waiting: the contact rules "
             "postponed the follow-up (see Waits Until and the note).",
    )
    postponed_until = fields.Datetime(
        readonly=True, help="Waiting for Contact Rules: the first moment the rules allow the follow-up.",
    )
    call_outcome = fields.Selection(CALL_OUTCOMES, readonly=True)
    failure_reason = fields.Text(readonly=True)
    amount_overdue = fields.Monetary(
        readonly=True, currency_field="currency_id",
        help="What the customer had overdue when this was logged, less its unapplied credits.")
    amount_due = fields.Monetary(
        string="Total Due", readonly=True, currency_field="currency_id",
        help="What the customer owed in all when this was logged (its receivable balance).")
    amount = fields.Monetary(
        readonly=True, currency_field="currency_id",
        help="What the entry is about: the fees charged, the invoices written off or deferred, what is still open "
             "of the plan, promise, settlement, dispute or case.")
    recipients = fields.Char(readonly=True)
    note = fields.Text(readonly=True)
    why = fields.Json(
        string="Reasons (Data)", readonly=True, copy=False,
        help="The reasons of the decision at the moment it was taken (collections.why), as data.",
    )
    why_html = fields.Html(string="Why", compute="_compute_why_html", sanitize=False)
    message_id = fields.Many2one("mail.message", readonly=True, index="btree_not_null")
    message_body = fields.Html(related="message_id.body", string="Message Sent")
    activity_id = fields.Many2one("mail.activity", string="Task", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", string="Document", readonly=True)

    # Follow-up channels only: holds and releases may legitimately alternate within a day.
    _scheduler_once_a_day = models.UniqueIndex(
        "(partner_id, company_id, action_date, channel) "
        "WHERE origin = 'scheduler' AND channel IN ('email', 'sms', 'letter', 'call', 'review')",
        "The scheduler already handled this customer on this channel today.",
    )

    @api.depends("partner_id", "channel", "date")
    def _compute_display_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        for action in self:
            action.display_name = f"{action.partner_id.display_name} - {channels.get(action.channel)}"

    @api.depends("why")
    @api.depends_context("lang")
    def _compute_why_html(self):
        Why = self.env["collections.why"]
        for action in self:
            lines = Why._sentences(action.why, action.company_id.currency_id) if action.why else []
            action.why_html = Why._render(lines) if lines else False

    @api.model_create_multi
    def create(self, vals_list):
        if not is_server(self.env):
            raise AccessError(self.env._(
                "The collections log is written by Collections itself when something happens; "
                "entries cannot be created directly."
            ))
        return super().create(vals_list)

    @api.model
    def _collections_log(self, vals_list):
        """The one writer of the log. Callers are server code only (private method):
        the run, the wizards after their checks, the arrangements, the credit rules.

        The author is the user whose request this is (``self.env.uid``: the scheduled
        job's user for the scheduler), the moment is now; a caller cannot choose either."""
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        now = fields.Datetime.now()
        entries = [{**vals, "user_id": self.env.uid, "date": now} for vals in vals_list]
        self._collections_figures(entries)
        self._collections_seal(entries)  # collections_evidence: what the entry points to, sealed
        # sudo: nobody has the create right on the log (it is append-only evidence); the
        # values come from the server code that called this private method.
        return server(self.sudo()).create(entries)

    def _collections_figures(self, entries):
        """What the customer owed (in all; overdue net of its credits) when each entry is logged, for the entries
        whose caller does not give it (a hold, a reply, a postponement, a write-off...): the customer form's
        figures of that moment, in place. Without it such an entry said "Total Due 0.00"."""
        missing = [vals for vals in entries if "amount_due" not in vals and "amount_overdue" not in vals]
        companies = defaultdict(list)
        for vals in missing:
            companies[vals.get("company_id") or self.env.company.id].append(vals)
        for company_id, group in companies.items():
            # sudo: the customer's figures, read for the log whoever logs (a portal reply, a scheduled job).
            partners = self.env["res.partner"].sudo().with_company(company_id).browse(
                [vals["partner_id"] for vals in group])
            # As they stand now: what the caller just did (a write-off reconciled) is not in figures read before.
            partners.invalidate_recordset(["collections_total_due", "collections_total_overdue"])
            for vals, partner in zip(group, partners, strict=True):  # one batch: the figures computed together
                vals["amount_due"] = partner.collections_total_due
                vals["amount_overdue"] = partner.collections_total_overdue

    def write(self, vals):
        if not self:
            return super().write(vals)
        raise UserError(self.env._(
            "The collections log is a record of what happened: entries cannot be changed. "
            "Log a new action instead."
        ))

    def unlink(self):
        if not self:
            return super().unlink()
        raise UserError(self.env._("The collections log is a record of what happened: entries cannot be deleted."))

    def _mark_undelivered(self, message_ids, reason):
        """The mail server refused the reminders of these messages: say so in the log and undo
        the level each invoice reached with them (unless an SMS or a letter of the same step
        reached the customer), so that the next run sends the reminder again.

        The only change ever made to a log entry, by the mail queue itself: delivery is part
        of what happened."""
        actions = self.search([("message_id", "in", message_ids), ("channel", "=", "email"), ("state", "=", "done")])
        for action in actions:
            text = self.env._("Not delivered: %s", reason)
            self.env.cr.execute(SQL(
                "UPDATE collections_action SET state = 'failed', failure_reason = %s WHERE id = %s", text, action.id,
            ))
            reached = self.search_count([
                ("partner_id", "=", action.partner_id.id), ("company_id", "=", action.company_id.id),
                ("action_date", "=", action.action_date), ("channel", "in", ("sms", "letter")),
                ("state", "=", "done"), ("id", "!=", action.id),
            ], limit=1)
            if not reached:
                action._undo_reminder()
            action.partner_id.message_post(
                body=self.env._("Reminder email not delivered (%s); it will be sent again.", reason),
                message_type="comment", subtype_xmlid="mail.mt_note",
            )
        self.invalidate_model(["state", "failure_reason"])

    def _undo_reminder(self):
        """Put the items of this reminder back where they were before it."""
        self.ensure_one()
        Ledger = self.env["collections.ledger"]
        levels = {}
        for move in self.move_ids:
            previous = self.search([
                ("move_ids", "in", move.ids), ("channel", "in", ("email", "sms", "letter")), ("state", "=", "done"),
                ("id", "<", self.id),
            ], order="id desc", limit=1)
            for line in Ledger._open_lines_of(move):
                if not line.collections_level_id or line.collections_last_reminder_date != self.action_date:
                    continue  # moved on since (or never reached a level through this reminder)
                # Back to the previous reminder's level when the item was already due then (the rule
                # of the 19.0.1.1.0 migration), else to none.
                was_due = previous and (line.date_maturity or line.date) <= previous.action_date
                levels[line.id] = (previous.level_id.id, previous.action_date) if was_due else (None, None)
        Ledger._set_levels(levels, reminder_count=-1)

    def action_open_document(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(self.env._("This action produced no document."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "new",
        }

    def action_print_letters(self):
        """One PDF of the selected letters (none selected: today's letters of the current company),
        in postal order (country, postcode, customer) for the post room: each letter as the run made
        it, the address where Odoo's document layout puts it for window envelopes."""
        if not self.env.user.has_group("collections_followup.group_collections_user"):
            raise AccessError(self.env._("Only collectors print the follow-up letters."))
        letters = self or self.search([
            ("action_date", "=", fields.Date.context_today(self)), ("company_id", "=", self.env.company.id),
        ])
        documents = letters._collections_letters_to_print()
        if not documents:
            raise UserError(self.env._("No letter to print: the run made none, or none is selected."))
        documents = documents._collections_in_postal_order()
        pdf = merge_pdf([entry.attachment_id.raw for entry in documents])
        dates = sorted(set(documents.mapped("action_date")))
        name = self.env._("Follow-up letters %(date)s (%(count)s).pdf", date=dates[-1] if len(dates) == 1 else
                          f"{dates[0]} - {dates[-1]}", count=len(documents))
        # Not attached to a record: only its creator (and administrators) may download it.
        batch = self.env["ir.attachment"].create({"name": name, "raw": pdf, "mimetype": "application/pdf"})
        return {"type": "ir.actions.act_url", "url": f"/web/content/{batch.id}?download=true", "target": "new"}

    def _collections_letters_to_print(self):
        """The entries of these that the post room prints: letters the run made, with their PDF
        (sudo: the PDFs are attached to the customers by the run; the entries are readable here)."""
        letters = self.filtered(lambda entry: entry.channel == "letter" and entry.state == "done")
        return letters.sudo().filtered("attachment_id")

    def _collections_in_postal_order(self):
        """These entries sorted as the post room sorts letters: country, postcode, customer."""
        def postal_order(entry):
            address = entry.partner_id.commercial_partner_id
            return address.country_id.code or "", address.zip or "", address.name or "", entry.id

        return self.sorted(postal_order)

