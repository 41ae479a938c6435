from odoo import api, models


class CollectionsOverrideWizard(models.TransientModel):
    _inherit = "collections.override.wizard"

    @api.model
    def _overridable_models(self):
        return [*super()._overridable_models(), "sale.order"]
