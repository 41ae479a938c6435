from odoo import api, fields, models
from odoo.exceptions import UserError


class CollectionsSendWizard(models.TransientModel):
    """Preview and send follow-ups by hand.

    One customer: the wizard itself is the preview (level, recipients,
    attachments, editable email). Several: one preview line per customer."""

    _name = "collections.send.wizard"
    _inherit = "collections.send.mixin"
    _description = "Send Follow-ups"

    line_ids = fields.One2many("collections.send.wizard.line", "wizard_id", string="Customers")
    mass = fields.Boolean(readonly=True)
    state = fields.Selection([("draft", "Preview"), ("done", "Sent")], default="draft")
    result_summary = fields.Char(readonly=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        partner_ids = self.env.context.get("active_ids") or []
        if self.env.context.get("active_model") != "res.partner" or not partner_ids:
            raise UserError(self.env._("Select the customers to follow up first."))
        partners = self.env["res.partner"].browse(partner_ids).commercial_partner_id
        decisions = partners._collections_decide()
        if len(partners) == 1:
            values.update(self._prepare_values(partners, *decisions[partners.id]))
            return values
        values["mass"] = True
        values["line_ids"] = [
            (0, 0, self._prepare_values(partner, *decisions[partner.id])) for partner in partners
        ]
        return values

    def action_send(self):
        self.ensure_one()
        if self.state == "done":
            raise UserError(self.env._("These follow-ups were already sent."))
        today = fields.Date.context_today(self)
        previews = self.line_ids if self.mass else self
        # One grouped query for every customer; the reasons go to the log with what is sent.
        decisions = previews.partner_id._collections_decide(explain=True)
        results = [preview._send_one(today, decisions) for preview in previews]
        sent, failed, skipped = (results.count(key) for key in ("sent", "failed", "skipped"))
        self.state = "done"
        self.result_summary = self.env._(
            "%(sent)s sent, %(failed)s failed, %(skipped)s skipped.", sent=sent, failed=failed, skipped=skipped,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Follow-up Results"),
        }


class CollectionsSendWizardLine(models.TransientModel):
    _name = "collections.send.wizard.line"
    _inherit = "collections.send.mixin"
    _description = "Send Follow-ups: Customer"

    wizard_id = fields.Many2one("collections.send.wizard", required=True, ondelete="cascade")
