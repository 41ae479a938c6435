from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .collections_guard import server

DISPUTE_STATES = [
    ("open", "Open"),
    ("review", "Under Review"),
    ("resolved", "Resolved"),
    ("rejected", "Rejected"),
]
OPEN_STATES = ("open", "review")


class CollectionsDisputeReason(models.Model):
    _name = "collections.dispute.reason"
    _description = "Dispute Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    sla_days = fields.Integer(
        string="Days to Resolve", default=14,
        help="Service level: a dispute with this reason should be settled within these days.",
    )

    _check_sla = models.Constraint("CHECK (sla_days > 0)", "Days to resolve must be positive.")


class CollectionsDispute(models.Model):
    """A customer contests invoices: they are not chased until it is settled.

    Resolved by a credit note (Odoo's reversal) or with an explanation, or
    rejected with an explanation; either way follow-up of the invoices resumes
    with what is still owed."""

    _name = "collections.dispute"
    _description = "Invoice Dispute"
    _inherit = ["collections.arrangement.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "state_sequence, deadline, id desc"
    _check_company_auto = True
    _sequence_code = "collections.dispute"

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    move_ids = fields.Many2many(
        "account.move", "collections_dispute_account_move_rel", "dispute_id", "move_id",
        string="Disputed Invoices", check_company=True, required=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'), "
               "('state', '=', 'posted')]",
    )
    line_ids = fields.Many2many(
        "account.move.line", "collections_dispute_account_move_line_rel", "dispute_id", "line_id",
        string="Disputed Lines",
        domain="[('move_id', 'in', move_ids), ('display_type', '=', 'product')]",
        help="Leave empty when the whole invoice is disputed.",
    )
    reason_id = fields.Many2one("collections.dispute.reason", required=True, tracking=True)
    description = fields.Text(required=True)
    user_id = fields.Many2one(
        string="Owner", tracking=True, default=False,
        help="Who settles the dispute; by default the customer's collector.",
    )
    origin = fields.Selection(
        [("collector", "Collections"), ("sales", "Sales"), ("portal", "Customer Portal")],
        required=True, default=lambda self: self._default_origin(), readonly=True,
    )
    opened_date = fields.Date(
        string="Opened On", required=True, readonly=True, default=fields.Date.context_today, copy=False,
    )
    state = fields.Selection(DISPUTE_STATES, default="open", required=True, readonly=True, tracking=True)
    state_sequence = fields.Integer(compute="_compute_state_sequence", store=True)
    deadline = fields.Date(
        compute="_compute_deadline", store=True, readonly=False, tracking=True,
        help="Date by which the dispute should be settled (the reason's days to resolve).",
    )
    is_overdue = fields.Boolean(compute="_compute_is_overdue", search="_search_is_overdue")
    resolution = fields.Text(tracking=True, help="What was decided and why; the customer is told.")
    resolved_date = fields.Date(readonly=True, copy=False)
    credit_note_ids = fields.Many2many(
        "account.move", "collections_dispute_credit_note_rel", "dispute_id", "move_id",
        string="Credit Notes", readonly=True, copy=False,
    )
    amount_disputed = fields.Monetary(compute="_compute_amount_disputed", store=True)

    @api.model
    def _default_origin(self):
        # Who opens the dispute says where it comes from: a collector, else a salesperson (the
        # portal's disputes are opened by the server for the customer and say so themselves).
        return "collector" if self.env.user.has_group("collections_followup.group_collections_user") else "sales"

    @api.model_create_multi
    def create(self, vals_list):
        today = fields.Date.context_today(self)
        Reason = self.env["collections.dispute.reason"]
        for vals in vals_list:
            context = self.env.context
            partner_id = vals.get("partner_id") or context.get("default_partner_id")
            reason_id = vals.get("reason_id") or context.get("default_reason_id")
            if not vals.get("user_id") and not context.get("default_user_id") and partner_id:
                company = self.env["res.company"].browse(
                    vals.get("company_id") or context.get("default_company_id")) or self.env.company
                vals["user_id"] = self._customer_collector(self.env["res.partner"].browse(partner_id), company).id
            if not vals.get("deadline") and reason_id:
                vals["deadline"] = today + timedelta(days=Reason.browse(reason_id).sla_days or 14)
        disputes = super().create(vals_list)
        disputes._check_lines()
        for dispute in disputes:
            dispute._log(self.env._(
                "Dispute %(name)s opened (%(reason)s) on %(invoices)s: %(text)s",
                name=dispute.name, reason=dispute.reason_id.name,
                invoices=", ".join(dispute.move_ids.mapped("name")), text=dispute.description,
            ), "dispute")
            owner = dispute.user_id
            if owner and owner != self.env.user:
                # sudo: a salesperson opening a dispute may not schedule tasks for the collector;
                # the task is the dispute's.
                dispute.sudo().activity_schedule(
                    "mail.mail_activity_data_todo", user_id=owner.id, date_deadline=dispute.deadline,
                    summary=self.env._("Dispute %(name)s: %(reason)s", name=dispute.name,
                                       reason=dispute.reason_id.name),
                    note=dispute.description,
                )
        return disputes

    def write(self, vals):
        if {"move_ids", "partner_id"} & set(vals) and any(d.state not in OPEN_STATES for d in self):
            raise UserError(self.env._("A settled dispute cannot change; open a new one."))
        result = super().write(vals)
        if "move_ids" in vals:
            self._check_moves_belong()
        if {"move_ids", "line_ids"} & set(vals):
            self._check_lines()
        return result

    def _check_lines(self):
        # sudo: the covered invoices are read only to validate the lines; nothing is returned.
        for dispute in self.sudo():
            if dispute.line_ids.move_id - dispute.move_ids:
                raise ValidationError(self.env._("Disputed lines must belong to the disputed invoices."))

    @api.depends("state")
    def _compute_state_sequence(self):
        order = {key: index for index, (key, _label) in enumerate(DISPUTE_STATES)}
        for dispute in self:
            dispute.state_sequence = order.get(dispute.state, 0)

    @api.depends("reason_id")
    def _compute_deadline(self):
        for dispute in self:
            start = fields.Date.to_date(dispute.create_date) or fields.Date.context_today(self)
            dispute.deadline = start + timedelta(days=dispute.reason_id.sla_days or 14)

    @api.depends("deadline", "state")
    @api.depends_context("date")
    def _compute_is_overdue(self):
        today = fields.Date.context_today(self)
        for dispute in self:
            dispute.is_overdue = dispute.state in OPEN_STATES and bool(dispute.deadline) and dispute.deadline < today

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise ValidationError(self.env._("Search on overdue disputes with = or != and a boolean."))
        domain = [("state", "in", OPEN_STATES), ("deadline", "<", fields.Date.context_today(self))]
        positive = (operator == "=") == value
        return domain if positive else ["!", "&", *domain]

    @api.depends("move_ids.amount_residual_signed", "line_ids.price_total")
    def _compute_amount_disputed(self):
        for dispute in self:
            if dispute.line_ids:
                # The contested lines, in company currency, never more than what is still owed.
                lines = sum(
                    line.currency_id._convert(line.price_total, dispute.currency_id, dispute.company_id,
                                              line.move_id.invoice_date or fields.Date.context_today(self))
                    for line in dispute.line_ids
                )
                dispute.amount_disputed = min(lines, sum(dispute.move_ids.mapped("amount_residual_signed")))
            else:
                dispute.amount_disputed = sum(dispute.move_ids.mapped("amount_residual_signed"))

    # ------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------

    def action_review(self):
        if any(d.state != "open" for d in self):
            raise UserError(self.env._("Only an open dispute can be put under review."))
        server(self).state = "review"
        return True

    def _close(self, state, summary):
        for dispute in self:
            if dispute.state not in OPEN_STATES:
                raise UserError(self.env._("Dispute %s is already settled.", dispute.name))
            if state != "resolved" or not dispute.credit_note_ids:
                if not (dispute.resolution or "").strip():
                    raise UserError(self.env._(
                        "Write the resolution (what was decided and why) before closing dispute %s.", dispute.name,
                    ))
        server(self).write({"state": state, "resolved_date": fields.Date.context_today(self)})
        for dispute in self:
            dispute._log(summary(dispute), "dispute")
            # sudo: the dispute's own open tasks close with it, whoever they were assigned to.
            dispute.sudo().activity_unlink(["mail.mail_activity_data_todo"])

    def action_resolve(self):
        self._close("resolved", lambda d: self.env._(
            "Dispute %(name)s resolved: %(resolution)s", name=d.name,
            resolution=d.resolution or ", ".join(d.credit_note_ids.mapped("name")),
        ))
        return True

    def action_reject(self):
        self._close("rejected", lambda d: self.env._(
            "Dispute %(name)s rejected: %(resolution)s; follow-up resumes", name=d.name, resolution=d.resolution,
        ))
        return True

    def action_credit_note(self):
        """Open Odoo's reversal wizard on the disputed invoices; the credit
        notes it makes are linked to the dispute, which is then resolved."""
        self.ensure_one()
        if self.state not in OPEN_STATES:
            raise UserError(self.env._("Dispute %s is already settled.", self.name))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Credit Note"),
            "res_model": "account.move.reversal",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": "account.move",
                "active_ids": self.move_ids.ids,
                "collections_dispute_id": self.id,
            },
        }

    def _link_credit_notes(self, credit_notes):
        """Credit notes made for the dispute: resolved once they are all posted. Only credit notes that reverse
        the dispute's own invoices count (the dispute comes from a context key any client may send), and only
        for a user who may change the dispute."""
        self.ensure_one()
        self.check_access("write")
        credit_notes = credit_notes.filtered(lambda move: move.reversed_entry_id in self.sudo().move_ids)
        if not credit_notes:
            return
        server(self).credit_note_ids = [(4, move.id) for move in credit_notes]
        if self.state == "open":
            server(self).state = "review"
        self._resolve_if_credited()

    def _resolve_if_credited(self):
        for dispute in self.filtered(lambda d: d.state in OPEN_STATES and d.credit_note_ids):
            notes = dispute.credit_note_ids
            if all(note.state == "posted" for note in notes):
                if not (dispute.resolution or "").strip():
                    dispute.resolution = self.env._("Credit note %s issued.", ", ".join(notes.mapped("name")))
                dispute.action_resolve()

    @api.model
    def _open_disputes_by_move(self, move_ids):
        """{move_id: dispute} for the invoices among ``move_ids`` under an open dispute."""
        # sudo: callers (the run, the portal) pass invoices they already hold; they get the disputes of those only.
        disputes = self.sudo().search([("state", "in", OPEN_STATES), ("move_ids", "in", list(move_ids))])
        return {move.id: dispute for dispute in disputes for move in dispute.move_ids if move.id in move_ids}
