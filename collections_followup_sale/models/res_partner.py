from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _collections_orders_to_invoice(self):
        """{commercial partner id: what its confirmed orders commit it to and is not invoiced yet}, company
        currency (``self.env.company``'s hierarchy), counted on the customer invoiced as Odoo does.

        Not Odoo's ``credit_to_invoice``: for a product invoiced on delivery, Odoo counts only what was delivered
        and not invoiced, so an order confirmed and not delivered yet counts 0 and two orders each under the limit
        both confirm. The customer is committed to what it ordered (or what was delivered, when more): that, less
        what posted invoices hold (a draft invoice's lines are still counted here, not in the drafts)."""
        result = super()._collections_orders_to_invoice()
        company = self.env.company
        if not company.account_use_credit_limit or not self:
            return result
        customers = self.commercial_partner_id
        orders = self.env["sale.order"].search([
            *self.env["collections.ledger"]._company_domain(company),
            ("state", "=", "sale"),
            ("partner_invoice_id.commercial_partner_id", "in", customers.ids),
            "|", ("invoice_status", "!=", "invoiced"), ("invoice_ids.state", "=", "draft"),
        ])
        today = fields.Date.context_today(self) if orders else None  # the user's day: read only when needed
        for order in orders:
            amount = order._collections_amount_not_invoiced()
            if amount:
                customer = order.partner_invoice_id.commercial_partner_id.id
                result[customer] = result.get(customer, 0.0) + order.currency_id._convert(
                    amount, company.currency_id, company, today)
        return result

    @api.model
    def _collections_draft_amounts(self, company, partners):
        """Odoo counts a confirmed order in the customer's exposure until its invoice is posted (the order's amount
        to invoice reads posted quantities only): a draft invoice's lines made from an order are already there,
        as the order. Only the rest of each draft counts (when Odoo counts the orders: credit limits in use)."""
        totals = super()._collections_draft_amounts(company, partners)
        if not company.account_use_credit_limit:
            return totals
        # The lines made from an order, in company currency (their share of their draft's total), one query.
        # sudo: as the drafts' total (exposure is shown to salespeople).
        domain = [("sale_line_ids", "!=", False), ("display_type", "=", "product"),
                  *[(f"move_id.{name}", operator, value)
                    for name, operator, value in self._collections_draft_domain(company, partners)]]
        lines = self.env["account.move.line"].sudo().search_fetch(domain, ["move_id", "price_total"])
        lines.move_id.fetch(["amount_total", "amount_total_signed", "commercial_partner_id"])
        for line in lines:
            move = line.move_id
            if move.amount_total:
                totals[move.commercial_partner_id.id] -= move.amount_total_signed * line.price_total / move.amount_total
        return totals
