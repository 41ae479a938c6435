from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .collections_guard import check_protected, is_scheduler


class CollectionsArrangementMixin(models.AbstractModel):
    """What payment plans, promises and settlements share: a customer, the
    invoices they cover, and how much of those has been paid since.

    Why its sudo() calls are safe: they run on arrangements the caller already
    holds (record rules: own company, a portal customer only its own), and read the
    invoices those cover only to sum their open amount or to validate them; the log
    entries, tasks and the approver search are written for the company on behalf of
    a user the arrangement's own access rules let through. Nothing read is returned
    besides the arrangement's own totals."""

    _name = "collections.arrangement.mixin"
    _inherit = ["collections.guard.mixin"]
    _description = "Collections Arrangement"
    # The reference comes from the sequence: checked and filled by create() below.
    _collections_unprotected = ("name",)

    # ir.sequence code numbering the records' ``name`` (None: no name field).
    _sequence_code = None

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True,
        domain="[('parent_id', '=', False)]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        "res.users", string="Collector", domain="[('share', '=', False)]", tracking=True,
        default=lambda self: self.env.user if not self.env.user.share else False,
    )
    amount_basis = fields.Monetary(
        string="Open When Agreed", readonly=True, copy=False,
        help="What the covered invoices still owed when the arrangement started; "
             "anything paid on them since counts towards it.",
    )
    amount_open = fields.Monetary(string="Still Open", compute="_compute_amount_paid")
    amount_paid = fields.Monetary(string="Paid Since", compute="_compute_amount_paid")

    @api.depends("move_ids.amount_residual_signed", "amount_basis")
    def _compute_amount_paid(self):
        for record in self:
            open_now = sum(record.sudo().move_ids.mapped("amount_residual_signed"))
            record.amount_open = open_now
            record.amount_paid = max(record.amount_basis - open_now, 0.0) if record.amount_basis else 0.0

    @api.model_create_multi
    def create(self, vals_list):
        if self._sequence_code:
            check_protected(self, [{k: v for k, v in vals.items() if k != "name" or v not in ("/", False)}
                                   for vals in vals_list], {"name"}, create=True)
            for vals in vals_list:
                if vals.get("name", "/") == "/":
                    vals["name"] = self.env["ir.sequence"].next_by_code(self._sequence_code) or "/"
        records = super().create(vals_list)
        records._check_moves_belong()
        return records

    @api.onchange("partner_id")
    def _onchange_partner_id_moves(self):
        if self.partner_id and not self.move_ids:
            self.move_ids = self._open_invoices(self.partner_id, self.company_id, overdue_only=True)

    @api.model
    def _open_invoices(self, partner, company, overdue_only=False):
        domain = [
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("company_id", "=", company.id),
            ("state", "=", "posted"),
            ("move_type", "=", "out_invoice"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        if overdue_only:
            domain.append(("invoice_date_due", "<", fields.Date.context_today(self)))
        return self.env["account.move"].search(domain, order="invoice_date_due, id")

    def _check_moves_belong(self):
        # Reads the invoices only to validate them (a salesperson opening a
        # dispute may not read invoices); nothing is returned to the user.
        for record in self.sudo():
            commercial = record.partner_id.commercial_partner_id
            wrong = record.move_ids.filtered(
                lambda m, commercial=commercial, company=record.company_id: m.commercial_partner_id != commercial
                or m.company_id != company or m.move_type != "out_invoice" or m.state != "posted"
            )
            if wrong:
                raise ValidationError(self.env._(
                    "Only posted customer invoices of %(customer)s can be covered; not %(invoices)s.",
                    customer=commercial.display_name, invoices=", ".join(wrong.mapped("display_name")),
                ))

    def _open_residual(self):
        return sum(self.sudo().move_ids.mapped("amount_residual_signed"))

    def _collector(self):
        """Who is told when the arrangement needs a person."""
        return self.user_id or self._customer_collector(self.partner_id, self.company_id)

    @api.model
    def _customer_collector(self, partner, company):
        """The customer's collector in that company, else its policy's (res.partner._collections_collectors)."""
        return partner.commercial_partner_id.sudo()._collections_collector(company)

    @api.model
    def _approver_for(self, policy, company):
        """A Collections Manager of the company to ask for an approval: the
        policy's collector when they are one, else the first manager by name."""
        group = self.env.ref("collections_followup.group_collections_manager")
        if policy.user_id and group in policy.user_id.all_group_ids:
            return policy.user_id
        return self.env["res.users"].sudo().search([
            ("all_group_ids", "in", group.id), ("company_ids", "in", company.id), ("share", "=", False),
            ("id", "!=", self.env.ref("base.user_root").id),
        ], order="name", limit=1)

    def _log(self, note, channel, state="done"):
        return self.env["collections.action"]._collections_log([{
            "partner_id": record.partner_id.commercial_partner_id.id,
            "company_id": record.company_id.id,
            "channel": channel,
            "origin": "scheduler" if is_scheduler(self.env) else "manual",
            "move_ids": [(6, 0, record.move_ids.ids)],
            "amount": record._open_residual(),
            "note": note,
            "state": state,
        } for record in self])

    def _notify_collector(self, summary, note=""):
        for record in self:
            user = record._collector()
            if user:
                record.sudo().activity_schedule(
                    "mail.mail_activity_data_todo", summary=summary, note=note, user_id=user.id,
                )
