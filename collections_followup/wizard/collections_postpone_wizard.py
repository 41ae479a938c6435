from odoo import fields, models
from odoo.exceptions import UserError


class CollectionsPostponeWizard(models.TransientModel):
    _name = "collections.postpone.wizard"
    _inherit = "collections.partners.mixin"
    _description = "Postpone Follow-up"

    date = fields.Date(string="Postpone Until", required=True)
    reason = fields.Char(required=True, help="Why the follow-up waits: kept in the log.")

    def action_postpone(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.date <= today:
            raise UserError(self.env._("Choose a date after today to postpone the follow-up."))
        self.partner_ids.with_company(self.env.company).write({
            "collections_postponed_until": self.date,
            "collections_postpone_reason": self.reason,
        })
        note = self.env._("Follow-up postponed until %(date)s: %(reason)s", date=self.date, reason=self.reason)
        Action = self.env["collections.action"]
        for partner in self.partner_ids:
            partner.message_post(body=note, message_type="comment", subtype_xmlid="mail.mt_note")
            Action |= Action._collections_log({
                "partner_id": partner.id,
                "channel": "postpone",
                "origin": "manual",
                "note": note,
            })
        return {"type": "ir.actions.act_window_close"}
