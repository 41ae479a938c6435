from odoo import api, models

from odoo.addons.collections_followup.models.collections_demo import ON_HOLD


class CollectionsDemo(models.AbstractModel):
    _inherit = "collections.demo"

    @api.model
    def _populate_sale(self):
        """A salesperson and quotations: one for the customer on hold (blocked), one that goes through."""
        product = self.env["product.product"].search([("sale_ok", "=", True)], limit=1)
        if not product:
            return
        seller = self.env["res.users"].create({
            "name": "Sam Sales",
            "login": "sales",
            "password": "sales",
            "email": "sam.sales@example.com",
            "group_ids": [(4, self.env.ref("sales_team.group_sale_salesman").id)],
        })
        for name, amount in ((ON_HOLD, 2400.0), ("Harbor Logistics", 900.0)):
            partner = self.env["res.partner"].search([("name", "=", name)], limit=1)
            if partner:
                self.env["sale.order"].create({
                    "partner_id": partner.id,
                    "user_id": seller.id,
                    "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1, "price_unit": amount})],
                })
