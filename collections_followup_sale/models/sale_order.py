from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "collections.override.mixin"]

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
        # (signature or payment), so the credit rule cannot be bypassed. An override
        # lets an order through only while it matches what the manager approved.
        # Orders confirmed together count together: each is checked with those of the same
        # customer checked before it in this call (none of them is confirmed yet).
        self._collections_void_broken_overrides()
        checked = defaultdict(float)
        for order in self.filtered(lambda o: o.state in ("draft", "sent") and not o._collections_override_applies()):
            key = (order.partner_id.commercial_partner_id, order.company_id)
            checked[key] += order._collections_check_credit(already=checked[key])
        return super().action_confirm()

    def _collections_check_credit(self, already=0.0):
        """Refuse the order when the credit rules block it; returns its amount (company currency).

        ``already``: orders of the same customer confirmed in the same call, checked before it."""
        self.ensure_one()
        company = self.company_id
        partner = self.partner_id.commercial_partner_id
        amount = self.currency_id._convert(
            self.amount_total, company.currency_id, company, self.date_order or fields.Date.context_today(self),
        )
        check = partner._collections_credit_check(company, amount + already)
        if check.status != "block":
            return amount
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


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # Lines change the order's total without writing the order: an override approved
    # for a lower total is voided as soon as the lines raise it.
    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._collections_void_broken_overrides()
        return lines

    def write(self, vals):
        result = super().write(vals)
        self.order_id._collections_void_broken_overrides()
        return result
