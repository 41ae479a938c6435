from odoo import models


class AccountMoveReversal(models.TransientModel):
    _inherit = "account.move.reversal"

    def reverse_moves(self, is_modify=False):
        action = super().reverse_moves(is_modify=is_modify)
        dispute_id = self.env.context.get("collections_dispute_id")
        if dispute_id:
            dispute = self.env["collections.dispute"].browse(dispute_id)
            dispute._link_credit_notes(self.new_move_ids)
        return action
