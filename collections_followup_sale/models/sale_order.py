from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import float_compare


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

    # ------------------------------------------------------------------
    # The credit rule on the stored order: whatever writes the state or the lines
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        # An order created confirmed (state in the values, a default, an import) is checked as it is stored.
        orders.filtered(lambda order: order.state == "sale")._collections_check_confirmed()
        return orders

    def write(self, vals):
        # Every confirmation ends here: the button (action_confirm writes the state), RPC, the portal
        # (signature or payment), an import or a direct write of the state. The orders entering "sale"
        # are checked as they will be stored (the other values of the write applied first), before
        # their state is written; orders confirmed together count together.
        entering = self.filtered(lambda order: order.state != "sale") if vals.get("state") == "sale" else self.browse()
        if entering:
            others = {key: value for key, value in vals.items() if key != "state"}
            if others:
                self.write(others)
            entering._collections_check_confirmed(confirmed=False)
            vals = {"state": "sale"}
        committed = self._collections_committed_amounts()
        result = super().write(vals)
        # A confirmed order whose customer or total changed is checked again.
        self._collections_changed_since(committed)._collections_check_confirmed()
        return result

    def action_confirm(self):
        # An override lets an order through only while it matches what the manager approved.
        self._collections_void_broken_overrides()
        return super().action_confirm()

    def _collections_committed_amounts(self):
        """{order id: (customers, total)} of the confirmed orders among these, before a change."""
        return {
            order.id: (order._collections_debtors(), order._collections_committed_amount())
            for order in self if order.state == "sale"
        }

    def _collections_changed_since(self, committed):
        """The confirmed orders whose total rose or whose customers changed since ``committed``."""
        changed = self.browse()
        for order in self.browse(list(committed)).exists():
            debtors, amount = committed[order.id]
            if order.state != "sale":
                continue
            rounding = order.currency_id.rounding
            if order._collections_debtors() != debtors or float_compare(
                    order._collections_committed_amount(), amount, precision_rounding=rounding) > 0:
                changed |= order
        return changed

    def _collections_committed_amount(self):
        """What the order commits the customer to: its total (a down payment line Odoo makes adds nothing to it:
        its quantity is zero)."""
        self.ensure_one()
        return self.amount_total

    def _collections_amount_not_invoiced(self):
        """What the order commits its customer to and no posted invoice holds yet (taxes included, the order's
        currency): per line, the quantity ordered (or delivered, when more) less the quantity on posted invoices,
        at the line's price; whatever the product's invoicing policy (res.partner._collections_orders_to_invoice)."""
        self.ensure_one()
        amount = 0.0
        for line in self.order_line:
            if not line.product_uom_qty or line.display_type:
                continue
            quantity = max(line.product_uom_qty, line.qty_delivered) - line.qty_invoiced_posted
            if quantity > 0:
                amount += line.price_total / line.product_uom_qty * quantity
        return amount

    def _collections_debtors(self):
        """The customers (commercial entities) the order's debt falls on: the ordering customer and the
        invoiced one (who owes the invoice)."""
        self.ensure_one()
        return (self.partner_id | self.partner_invoice_id).commercial_partner_id

    def _collections_check_confirmed(self, confirmed=True):
        """Refuse these orders when the credit rules block them: ``confirmed``, orders stored in "sale"
        (created so, or grown since); else orders about to enter it.

        Each customer is checked with all these orders at once. The exposure of a customer already holds
        what Odoo counts of its confirmed orders (their amount to invoice): the rest of their totals is
        added, and the whole total of orders not confirmed yet. An override lets an order through while
        it matches what the manager approved."""
        if not self:
            return
        self._collections_void_broken_overrides()
        extra = defaultdict(float)
        documents = defaultdict(list)
        checked = self.filtered(lambda o: (o.state == "sale") == confirmed and not o._collections_override_applies())
        for order in checked:
            company = order.company_id
            date = order.date_order or fields.Date.context_today(order)
            total = order.currency_id._convert(order.amount_total, company.currency_id, company, date)
            # sudo: what the exposure already counts of the order (read to add the rest).
            counted = 0.0
            if confirmed and company.account_use_credit_limit:
                counted = order.currency_id._convert(order.sudo()._collections_amount_not_invoiced(),
                                                     company.currency_id, company, date)
            invoiced = order.partner_invoice_id.commercial_partner_id
            for debtor in order._collections_debtors():
                # Odoo counts the order in the invoiced customer's exposure only.
                extra[(debtor, company)] += max(total - counted, 0.0) if debtor == invoiced else total
                documents[(debtor, company)].append(order)
        for (debtor, company), amount in extra.items():
            check = debtor._collections_credit_check(company, amount)
            if check.status != "block":
                continue
            orders = self.browse().union(*documents[(debtor, company)])
            if request and request.env.user.share:
                # A customer confirming on the portal (the portal acts as superuser, hence
                # the request's user): no internal reason, no amounts.
                raise UserError(self.env._(
                    "We cannot confirm this order online at the moment. Please contact us, we will be glad to help."
                ))
            raise UserError(debtor._collections_credit_error(
                company, check, self.env._("Sales order %s", ", ".join(orders.mapped("name"))),
            ))

    def action_collections_override(self):
        return self.env["collections.override.wizard"]._open_for(self)


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # Lines change the order's total without writing the order: an override approved
    # for a lower total is voided as soon as the lines raise it.
    # A confirmed order whose lines raise its total is checked again (its override voided first).
    @api.model_create_multi
    def create(self, vals_list):
        orders = self.env["sale.order"].browse({vals.get("order_id") for vals in vals_list if vals.get("order_id")})
        committed = orders._collections_committed_amounts()
        lines = super().create(vals_list)
        lines.order_id._collections_void_broken_overrides()
        (lines.order_id | orders)._collections_changed_since(committed)._collections_check_confirmed()
        return lines

    def write(self, vals):
        # The orders the lines are on, and the one they move to.
        orders = self.order_id | self.env["sale.order"].browse(vals.get("order_id") or ())
        committed = orders._collections_committed_amounts()
        result = super().write(vals)
        (orders | self.order_id)._collections_void_broken_overrides()
        (orders | self.order_id)._collections_changed_since(committed)._collections_check_confirmed()
        return result
