from odoo.addons.collections_followup.demo.populate import ON_HOLD


def populate(env):
    """A salesperson and quotations: one for the customer on hold (blocked), one that goes through.

    Called by the bridge's post-init hook when it is installed with demo data, after the addon's own
    demo customers exist (the bridge depends on the addon)."""
    product = env["product.product"].search([("sale_ok", "=", True)], limit=1)
    if not product:
        return
    seller = env["res.users"].create({
        "name": "Sam Sales",
        "login": "sales",
        "password": "sales",
        "email": "sam.sales@example.com",
        "group_ids": [(4, env.ref("sales_team.group_sale_salesman").id)],
    })
    for name, amount in ((ON_HOLD, 2400.0), ("Harbor Logistics", 900.0)):
        partner = env["res.partner"].search([("name", "=", name)], limit=1)
        if partner:
            env["sale.order"].create({
                "partner_id": partner.id,
                "user_id": seller.id,
                "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1, "price_unit": amount})],
            })
