from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request


class SaleOrder(models.Model):
    _inherit = "sale.order"

    collections_override_user_id = fields.Many2one(
        "res.users", string="Credit Block Overridden By", readonly=True, copy=False,
    )
    collections_override_date = fields.Datetime(string="Overridden On", readonly=True, copy=False)
    collections_override_reason = fields.Char(string="Override Reason", readonly=True, copy=False)
    collections_credit_state = fields.Selection(
        [("red", "Blocked"), ("amber", "Watch")], string="Customer Credit",
        compute="_compute_collections_credit",
    )
    collections_credit_message = fields.Char(compute="_compute_collections_credit")
    collections_credit_hold = fields.Boolean(
        string="Customer on Credit Hold", compute="_compute_collections_credit",
        search="_search_collections_credit_hold",
    )

    @api.depends("partner_id", "company_id")
    def _compute_collections_credit(self):
        for order in self:
            partner = order.partner_id.commercial_partner_id.with_company(order.company_id)
            order.collections_credit_state = partner.collections_credit_state
            order.collections_credit_message = partner.collections_credit_message
            # sudo: salespeople must see the hold of the order's customer (the flag only, not the debt behind it).
            order.collections_credit_hold = bool(partner.sudo().collections_credit_hold)

    def _search_collections_credit_hold(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        # sudo: ids of held customers of the current company, only used to filter orders the user can read.
        held = self.env["res.partner"].sudo().search([("collections_credit_hold", "=", True)])
        positive = (operator == "=") == bool(value)
        return [("partner_id.commercial_partner_id", "in" if positive else "not in", held.ids)]

    def action_confirm(self):
        # Every confirmation path goes through here: the button, RPC, the portal
        # (signature or payment), so the credit rule cannot be bypassed.
        for order in self.filtered(lambda o: o.state in ("draft", "sent") and not o.collections_override_user_id):
            order._collections_check_credit()
        return super().action_confirm()

    def _collections_check_credit(self):
        self.ensure_one()
        company = self.company_id
        partner = self.partner_id.commercial_partner_id
        amount = self.currency_id._convert(
            self.amount_total, company.currency_id, company, self.date_order or fields.Date.context_today(self),
        )
        check = partner._collections_credit_check(company, amount)
        if check.status != "block":
            return
        if request and request.env.user.share:
            # A customer confirming on the portal (the portal acts as superuser, hence
            # the request's user): no internal reason, no amounts.
            raise UserError(self.env._(
                "We cannot confirm this order online at the moment. Please contact us, we will be glad to help."
            ))
        raise UserError(partner._collections_credit_error(
            company, check, self.env._("Sales order %s", self.name),
        ))

    def action_collections_override(self):
        return self.env["collections.override.wizard"]._open_for(self)
