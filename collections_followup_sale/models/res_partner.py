from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _collections_orders_to_invoice(self):
        """Confirmed orders not yet invoiced: Odoo's own credit_to_invoice, company currency."""
        result = super()._collections_orders_to_invoice()
        for partner in self:
            result[partner.id] = result.get(partner.id, 0.0) + (partner.credit_to_invoice or 0.0)
        return result
