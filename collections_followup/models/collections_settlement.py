from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare

from .collections_guard import scheduler, server

SETTLEMENT_STATES = [
    ("draft", "Draft"),
    ("to_approve", "To Approve"),
    ("approved", "Offered"),
    ("done", "Settled"),
    ("expired", "Expired"),
    ("cancelled", "Cancelled"),
]


class CollectionsSettlement(models.Model):
    """An offer to accept part of a debt as full payment by a date.

    A manager approves it; once the customer has paid the agreed amount, the
    rest of the covered invoices is written off with a reconciled entry."""

    _name = "collections.settlement"
    _description = "Settlement Offer"
    _inherit = ["collections.arrangement.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True
    _sequence_code = "collections.settlement"

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    state = fields.Selection(SETTLEMENT_STATES, default="draft", required=True, readonly=True, tracking=True)
    move_ids = fields.Many2many(
        "account.move", "collections_settlement_account_move_rel", "settlement_id", "move_id",
        string="Covered Invoices", check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'), "
               "('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    amount_due = fields.Monetary(string="Owed", compute="_compute_amount_due")
    amount_agreed = fields.Monetary(string="Settlement Amount", required=True, tracking=True)
    amount_forgiven = fields.Monetary(string="Written Off", compute="_compute_amount_due")
    deadline = fields.Date(required=True, tracking=True)
    reason = fields.Text(required=True)
    approved_by_id = fields.Many2one("res.users", string="Approver", readonly=True, copy=False)
    approved_date = fields.Datetime(readonly=True, copy=False)
    writeoff_move_id = fields.Many2one("account.move", string="Write-off Entry", readonly=True, copy=False)

    _check_amount = models.Constraint("CHECK (amount_agreed > 0)", "The settlement amount must be positive.")

    def write(self, vals):
        if {"move_ids", "amount_agreed", "deadline", "partner_id"} & set(vals) and any(
            s.state not in ("draft", "to_approve") for s in self
        ):
            raise UserError(self.env._("An approved settlement cannot be changed; cancel it and make a new offer."))
        result = super().write(vals)
        if "move_ids" in vals:
            self._check_moves_belong()
        return result

    @api.depends("move_ids.amount_residual_signed", "amount_agreed", "amount_basis", "state")
    def _compute_amount_due(self):
        for settlement in self:
            # sudo: the open amount of the settlement's own invoices (a total, on a record the user reads).
            owed = settlement.amount_basis or sum(settlement.sudo().move_ids.mapped("amount_residual_signed"))
            settlement.amount_due = owed
            settlement.amount_forgiven = max(owed - settlement.amount_agreed, 0.0)

    def _check_offer(self):
        for settlement in self:
            if not settlement.move_ids:
                raise ValidationError(self.env._("Choose the invoices the settlement covers."))
            owed = sum(settlement.move_ids.mapped("amount_residual_signed"))
            if float_compare(settlement.amount_agreed, owed, precision_rounding=settlement.currency_id.rounding) >= 0:
                raise ValidationError(self.env._(
                    "The settlement amount (%(agreed)s) must be less than what is owed (%(owed)s).",
                    agreed=settlement.currency_id.format(settlement.amount_agreed),
                    owed=settlement.currency_id.format(owed),
                ))
            if settlement.deadline < fields.Date.context_today(self):
                raise ValidationError(self.env._("The payment deadline cannot be in the past."))

    def action_submit(self):
        if any(s.state != "draft" for s in self):
            raise UserError(self.env._("Only a draft settlement can be submitted."))
        self._check_offer()
        server(self).state = "to_approve"
        for settlement in self:
            settlement._log(self.env._("Settlement %s submitted for approval", settlement.name), "settlement")
            approver = settlement._approver()
            if approver:
                # sudo: the approval task is the manager's; the collector proposing may not assign tasks on it.
                settlement.sudo().activity_schedule(
                    "mail.mail_activity_data_todo", user_id=approver.id,
                    summary=self.env._("Approve settlement %s", settlement.name),
                    note=self.env._("%(agreed)s offered instead of %(owed)s.",
                                    agreed=settlement.currency_id.format(settlement.amount_agreed),
                                    owed=settlement.currency_id.format(settlement.amount_due)),
                )
        return True

    def _approver(self):
        self.ensure_one()
        policy = self.partner_id.with_company(self.company_id)._collections_policy(self.company_id)
        return self._approver_for(policy, self.company_id)

    def action_approve(self):
        if not self.env.user.has_group("collections_followup.group_collections_manager"):
            raise AccessError(self.env._("Only a Collections Manager can approve a settlement."))
        if any(s.state != "to_approve" for s in self):
            raise UserError(self.env._("Only a settlement waiting for approval can be approved."))
        self._check_offer()
        for settlement in self:
            policy = settlement.partner_id.with_company(settlement.company_id)._collections_policy(
                settlement.company_id)
            policy._writeoff_accounting()  # refuse now, not when the money has arrived
            # The approval request is answered, whoever answered it.
            settlement.sudo().activity_feedback(["mail.mail_activity_data_todo"], feedback=self.env._("Approved"))
            server(settlement).write({
                "state": "approved",
                "approved_by_id": self.env.user.id,
                "approved_date": fields.Datetime.now(),
                "amount_basis": settlement._open_residual(),
            })
            settlement._log(self.env._(
                "Settlement %(name)s approved by %(user)s: %(agreed)s by %(date)s instead of %(owed)s",
                name=settlement.name, user=self.env.user.name,
                agreed=settlement.currency_id.format(settlement.amount_agreed), date=settlement.deadline,
                owed=settlement.currency_id.format(settlement.amount_basis),
            ), "settlement")
        return True

    def action_cancel(self):
        if any(s.state in ("done", "cancelled") for s in self):
            raise UserError(self.env._("This settlement is already closed."))
        server(self).state = "cancelled"
        for settlement in self:
            settlement._log(self.env._("Settlement %s cancelled", settlement.name), "settlement")
        return True

    def action_check_payment(self):
        self._check(fields.Date.context_today(self))
        return True

    @api.model
    def _cron_check_settlements(self):
        today = fields.Date.context_today(self)
        # The scheduler acts for every company: all approved offers, whoever reads them.
        scheduler(self.sudo().search([("state", "=", "approved")]))._check(today)

    def _check(self, today):
        for settlement in self.filtered(lambda s: s.state == "approved"):
            rounding = settlement.currency_id.rounding
            if float_compare(settlement.amount_paid, settlement.amount_agreed, precision_rounding=rounding) >= 0:
                settlement._write_off_remainder()
            elif today > settlement.deadline:
                server(settlement).state = "expired"
                settlement._log(self.env._(
                    "Settlement %(name)s expired: %(paid)s of %(agreed)s paid by %(date)s; follow-up resumes",
                    name=settlement.name, paid=settlement.currency_id.format(settlement.amount_paid),
                    agreed=settlement.currency_id.format(settlement.amount_agreed), date=settlement.deadline,
                ), "settlement")
                settlement._notify_collector(self.env._("Settlement %s expired unpaid", settlement.name))

    @api.constrains("state", "approved_by_id", "approved_date")
    def _check_approval(self):
        # An offer, a settlement paid and written off: each rests on a manager's recorded approval.
        for settlement in self:
            if settlement.state in ("approved", "done", "expired") and not (
                    settlement.approved_by_id and settlement.approved_date):
                raise ValidationError(self.env._(
                    "Settlement %s has no recorded approval: a Collections Manager approves it first.",
                    settlement.name,
                ))

    def _approval_holds(self):
        """The approval is a fact at write-off time: recorded, and by a Collections Manager."""
        self.ensure_one()
        group = self.env.ref("collections_followup.group_collections_manager")
        approver = self.approved_by_id
        return bool(self.approved_date and approver and group in approver.sudo().all_group_ids)

    def _write_off_remainder(self):
        """Write the rest of the covered invoices off, reconciled with them."""
        self.ensure_one()
        if not self._approval_holds():
            raise UserError(self.env._(
                "Settlement %s cannot write anything off: it was not approved by a Collections Manager.",
                self.name,
            ))
        policy = self.partner_id.with_company(self.company_id)._collections_policy(self.company_id)
        journal, account = policy._writeoff_accounting()
        # Accounting entries are the company's: the approval was the manager's decision.
        entry = self.sudo().move_ids._collections_write_off(
            journal, account, self.env._("Settlement %s", self.name), fields.Date.context_today(self),
        )
        if not entry:
            server(self).state = "done"
            return
        forgiven = sum(entry.line_ids.filtered(lambda item: item.account_id == account).mapped("balance"))
        server(self).write({"state": "done", "writeoff_move_id": entry.id})
        self._log(self.env._(
            "Settlement %(name)s paid: %(forgiven)s written off to %(account)s (%(entry)s)",
            name=self.name, forgiven=self.currency_id.format(forgiven), account=account.display_name,
            entry=entry.name,
        ), "settlement")
        self.message_post(body=self.env._("Agreed amount received; the rest is written off in %s.", entry.name))
