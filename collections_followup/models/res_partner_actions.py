"""The buttons of the customer form's Collections tab: the log, plans and promises, send, call, postpone."""
from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def action_collections_open_actions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_followup.action_collections_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def _collections_open_arrangements(self, xmlid):
        self.ensure_one()
        commercial = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("partner_id", "=", commercial.id)]
        action["context"] = {"default_partner_id": commercial.id}
        return action

    def action_collections_open_plans(self):
        return self._collections_open_arrangements(
            "collections_followup.action_collections_payment_plan")

    def action_collections_open_promises(self):
        return self._collections_open_arrangements(
            "collections_followup.action_collections_promise")

    def action_collections_new_promise(self):
        commercial = self.commercial_partner_id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Promise to Pay"),
            "res_model": "collections.promise",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": commercial.id},
        }

    def action_collections_new_plan(self):
        commercial = self.commercial_partner_id
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Payment Plan"),
            "res_model": "collections.payment.plan",
            "view_mode": "form",
            "context": {"default_partner_id": commercial.id},
        }

    def action_collections_send(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_followup.action_collections_send_wizard")
        action["context"] = {"active_model": "res.partner", "active_ids": self.commercial_partner_id.ids}
        return action

    def action_collections_log_call(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_followup.action_collections_call_wizard")
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def action_collections_postpone(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "collections_followup.action_collections_postpone_wizard"
        )
        action["context"] = {"active_model": "res.partner", "active_ids": self.commercial_partner_id.ids}
        return action

    def action_collections_open_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [
            ("commercial_partner_id", "=", self.commercial_partner_id.id),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        action["context"] = {"create": False}
        return action
