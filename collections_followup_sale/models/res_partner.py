from odoo import models


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
