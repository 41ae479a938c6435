from odoo import fields, models
from odoo.exceptions import AccessError


class CollectionsHoldWizard(models.TransientModel):
    """A manager puts customers on credit hold, or releases them, with a reason."""

    _name = "collections.hold.wizard"
    _inherit = "collections.partners.mixin"
    _description = "Credit Hold"

    mode = fields.Selection([("hold", "Put on Hold"), ("release", "Release")], required=True, default="hold")
    reason = fields.Char(required=True, help="Kept on the customer and in the collections log.")

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("collections_followup.group_collections_manager"):
            raise AccessError(self.env._("Only a Collections Manager can put a customer on hold or release it."))
        if self.mode == "hold":
            self.partner_ids._collections_set_hold(self.reason, "manual", self.env.company)
        else:
            self.partner_ids._collections_release_hold(self.reason, self.env.company)
        return {"type": "ir.actions.act_window_close"}
