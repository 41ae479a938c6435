from odoo import api, fields, models


class CollectionsPartnersMixin(models.AbstractModel):
    """A wizard acting on the customers selected in a list or open in a form."""

    _name = "collections.partners.mixin"
    _description = "Wizard on Selected Customers"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner":
            partners = self.env["res.partner"].browse(self.env.context.get("active_ids") or [])
            values["partner_ids"] = [(6, 0, partners.commercial_partner_id.ids)]
        return values
