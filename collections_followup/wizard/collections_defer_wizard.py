from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.collections_guard import server


class CollectionsDeferWizard(models.TransientModel):
    _name = "collections.defer.wizard"
    _description = "Defer Invoice Follow-up"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    date = fields.Date(string="Defer Until", required=True)
    reason = fields.Char(required=True)

    @api.constrains("date")
    def _check_date(self):
        today = fields.Date.context_today(self)
        if any(wizard.date <= today for wizard in self):
            raise UserError(self.env._("Choose a date after today to defer the follow-up to."))

    def action_apply(self):
        self.ensure_one()
        moves = self.move_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        if not moves:
            raise UserError(self.env._("Only posted customer invoices can have their follow-up deferred."))
        # sudo: collectors do not edit invoices (no write right on them); server(): the deferral
        # fields are set by this wizard only, after the checks above (collections_guard).
        server(moves.sudo()).write({"collections_deferred_until": self.date, "collections_defer_reason": self.reason})
        for (partner, company), group in moves.grouped(lambda m: (m.commercial_partner_id, m.company_id)).items():
            self.env["collections.action"]._collections_log({
                "partner_id": partner.id,
                "company_id": company.id,
                "channel": "defer",
                "move_ids": [(6, 0, group.ids)],
                "amount": sum(group.mapped("amount_residual_signed")),
                "note": self.env._("Follow-up of %(invoices)s deferred until %(date)s: %(reason)s",
                                   invoices=", ".join(group.mapped("name")), date=self.date, reason=self.reason),
            })
        return {"type": "ir.actions.act_window_close"}
