from odoo import api, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _collections_orders_to_invoice(self):
        """Confirmed orders not yet invoiced: Odoo's own credit_to_invoice, company currency."""
        result = super()._collections_orders_to_invoice()
        # credit_to_invoice is computed on read and depends on no field, so nothing refreshes a
        # cached value: one left here by the check that runs before an order is confirmed hid
        # that order from every later read in the transaction (Odoo's test_commercial_partner_credit
        # read 0.0 instead of 1200.0). Read it fresh, leave nothing behind.
        self.invalidate_recordset(["credit_to_invoice"])
        for partner in self:
            result[partner.id] = result.get(partner.id, 0.0) + (partner.credit_to_invoice or 0.0)
        self.invalidate_recordset(["credit_to_invoice"])
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
