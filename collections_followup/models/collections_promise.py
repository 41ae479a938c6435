from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..engine.plans import PROMISE_BROKEN, PROMISE_KEPT, promise_status
from .collections_guard import scheduler, server

PROMISE_CHANNELS = [
    ("phone", "Phone"),
    ("email", "Email"),
    ("portal", "Customer Portal"),
    ("meeting", "In Person"),
    ("letter", "Letter"),
]


class CollectionsPromise(models.Model):
    """A customer's word that it will pay an amount by a date.

    Follow-up of the promised invoices waits until the date plus the policy's
    grace days; a daily check then marks the promise kept or broken."""

    _name = "collections.promise"
    _description = "Promise to Pay"
    _inherit = ["collections.arrangement.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "promised_date desc, id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    move_ids = fields.Many2many(
        "account.move", "collections_promise_account_move_rel", "promise_id", "move_id",
        string="Covered Invoices", check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'), "
               "('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    amount = fields.Monetary(string="Promised Amount", required=True, tracking=True)
    promised_date = fields.Date(required=True, tracking=True)
    channel = fields.Selection(PROMISE_CHANNELS, required=True, default="phone")
    user_id = fields.Many2one(string="Taken By")
    taken_date = fields.Datetime(string="Taken On", default=fields.Datetime.now, readonly=True)
    grace_days = fields.Integer(readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("kept", "Kept"), ("broken", "Broken"), ("cancelled", "Cancelled")],
        default="open", required=True, readonly=True, tracking=True,
    )
    closed_date = fields.Date(readonly=True)
    note = fields.Text()

    _check_amount = models.Constraint("CHECK (amount > 0)", "A promise is for a positive amount.")

    @api.depends("partner_id", "amount", "promised_date")
    def _compute_display_name(self):
        for promise in self:
            promise.display_name = self.env._(
                "%(customer)s: %(amount)s by %(date)s", customer=promise.partner_id.display_name,
                amount=promise.currency_id.format(promise.amount) if promise.currency_id else promise.amount,
                date=promise.promised_date,
            )

    @api.model_create_multi
    def create(self, vals_list):
        today = fields.Date.context_today(self)
        for vals in vals_list:
            if vals.get("promised_date") and fields.Date.to_date(vals["promised_date"]) < today:
                raise ValidationError(self.env._("The promised date cannot be in the past."))
        promises = super().create(vals_list)
        for promise in promises:
            commercial = promise.partner_id.commercial_partner_id
            if promise.partner_id != commercial:
                promise.partner_id = commercial
            if not promise.move_ids:
                # A promise on the customer covers what it owes today.
                promise.move_ids = promise._open_invoices(commercial, promise.company_id)
            if not promise.move_ids:
                raise ValidationError(self.env._("%s has no open invoice to promise a payment for.",
                                                 commercial.display_name))
            policy = commercial.with_company(promise.company_id)._collections_policy(promise.company_id)
            server(promise).write({
                "grace_days": policy.promise_grace_days if policy else 3,
                "amount_basis": promise._open_residual(),
            })
        promises._check_moves_belong()  # again: invoices may have been added above
        promises._log_taken()
        return promises

    def write(self, vals):
        frozen = {"partner_id", "move_ids", "amount", "promised_date", "channel"}
        if frozen & set(vals) and any(promise.state != "open" for promise in self):
            raise UserError(self.env._("A kept, broken or cancelled promise is part of the record; it cannot change."))
        return super().write(vals)

    def _log_taken(self):
        channels = dict(PROMISE_CHANNELS)
        for promise in self:
            promise._log(self.env._(
                "Promise to pay %(amount)s by %(date)s (%(channel)s), taken by %(user)s",
                amount=promise.currency_id.format(promise.amount), date=promise.promised_date,
                channel=channels[promise.channel], user=promise.user_id.name or promise.partner_id.name,
            ), "promise")

    def action_cancel(self):
        if any(promise.state != "open" for promise in self):
            raise UserError(self.env._("Only an open promise can be cancelled."))
        server(self).write({"state": "cancelled", "closed_date": fields.Date.context_today(self)})
        for promise in self:
            promise._log(self.env._("Promise cancelled by %s", self.env.user.name), "promise")
        return True

    @api.model
    def _cron_check_promises(self):
        today = fields.Date.context_today(self)
        # The scheduler acts for every company: all open promises, whoever reads them.
        scheduler(self.sudo().search([("state", "=", "open")]))._check(today)

    def _check(self, today):
        for promise in self:
            status = promise_status(
                Decimal(str(promise.amount)), promise.promised_date, Decimal(str(promise.amount_paid)),
                today, promise.grace_days,
            )
            if status == PROMISE_KEPT:
                server(promise).write({"state": "kept", "closed_date": today})
                promise._log(self.env._("Promise kept: %s paid", promise.currency_id.format(promise.amount_paid)),
                             "promise")
            elif status == PROMISE_BROKEN:
                server(promise).write({"state": "broken", "closed_date": today})
                note = self.env._("%(paid)s of %(amount)s paid by %(date)s",
                                  paid=promise.currency_id.format(promise.amount_paid),
                                  amount=promise.currency_id.format(promise.amount), date=promise.promised_date)
                promise._log(self.env._("Promise broken: %s; follow-up resumes", note), "promise")
                promise._notify_collector(self.env._("Broken promise: %s", promise.partner_id.display_name), note)
