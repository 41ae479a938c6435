from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class CollectionsOverrideWizard(models.TransientModel):
    """A manager lets ONE blocked document through; the hold stays for everything else."""

    _name = "collections.override.wizard"
    _description = "Override Credit Block"

    res_model = fields.Char(required=True, readonly=True)
    res_id = fields.Integer(required=True, readonly=True)
    document_name = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    reason = fields.Char(required=True, help="Why this document may go ahead: kept on it and in the log.")

    @api.model
    def _open_for(self, document):
        document.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Override Credit Block"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_res_model": document._name,
                "default_res_id": document.id,
                "default_document_name": document.display_name,
                "default_partner_id": document.partner_id.commercial_partner_id.id,
            },
        }

    def action_override(self):
        self.ensure_one()
        if not self.env.user.has_group("collections_followup.group_collections_manager"):
            raise AccessError(self.env._("Only a Collections Manager can override a credit block."))
        if self.res_model not in self._overridable_models():
            raise UserError(self.env._("Credit blocks cannot be overridden on %s.", self.res_model))
        document = self.env[self.res_model].browse(self.res_id).exists()
        if not document:
            raise UserError(self.env._("The document no longer exists."))
        document.check_access("read")
        # Bound to the document's customer, company, currency and total as they are now.
        document._collections_grant_override(self.reason)
        document.message_post(
            body=self.env._(
                "Credit block overridden by %(user)s: %(reason)s", user=self.env.user.name, reason=self.reason,
            ),
            message_type="comment", subtype_xmlid="mail.mt_note",
        )
        moves = document if document._name == "account.move" else None
        self.partner_id._collections_log_credit(
            "override", f"{document.display_name}: {self.reason}", document.company_id, moves=moves,
        )
        return {"type": "ir.actions.act_window_close"}

    @api.model
    def _overridable_models(self):
        return ["account.move"]
