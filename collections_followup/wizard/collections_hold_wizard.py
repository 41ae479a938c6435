from odoo import api, fields, models
from odoo.exceptions import AccessError


class CollectionsHoldWizard(models.TransientModel):
    """A manager puts customers on credit hold, or releases them, with a reason."""

    _name = "collections.hold.wizard"
    _description = "Credit Hold"

    mode = fields.Selection([("hold", "Put on Hold"), ("release", "Release")], required=True, default="hold")
    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    reason = fields.Char(required=True, help="Kept on the customer and in the collections log.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner":
            partners = self.env["res.partner"].browse(self.env.context.get("active_ids") or [])
            values["partner_ids"] = [(6, 0, partners.commercial_partner_id.ids)]
        return values

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("collections_followup.group_collections_manager"):
            raise AccessError(self.env._("Only a Collections Manager can put a customer on hold or release it."))
        if self.mode == "hold":
            self.partner_ids._collections_set_hold(self.reason, "manual", self.env.company)
        else:
            self.partner_ids._collections_release_hold(self.reason, self.env.company)
        return {"type": "ir.actions.act_window_close"}
