"""Why a customer is where it is: the reasons of its decision today, as data and as the sentences the form shows."""
from odoo import api, models

from .collections_why import to_json


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _collections_why_data(self, company=None, today=None, with_contact_rules=False):
        """{commercial partner id: JSON-ready reasons} of these partners' decisions today
        (collections.why._data), with the scheduler's contact-rules wait when asked."""
        company = company or self.env.company
        commercial = self.commercial_partner_id.filtered("id")
        decisions = commercial._collections_decide(company, today, explain=True)
        Why = self.env["collections.why"]
        Rules = self.env["collections.contact.rules"].with_company(company)
        result = {}
        for partner in commercial.with_company(company):
            policy, decision = decisions[partner.id]
            wait = None
            if with_contact_rules and decision.status == "action":
                level = self.env["collections.level"].sudo().browse(decision.level_id)
                wait = Rules._why_contact_wait(partner, policy, level)
            result[partner.id] = Why._data(partner, company, decision, contact_wait=wait)
        return result

    @api.depends_context("company", "uid", "lang")
    @api.depends("commercial_partner_id")
    def _compute_collections_why(self):
        company = self.env.company
        data = self._collections_why_data(company, with_contact_rules=True)
        Why = self.env["collections.why"]
        for partner in self:
            reasons = data.get(partner.commercial_partner_id.id)
            partner.collections_why = Why._render(Why._sentences(reasons, company.currency_id)) if reasons else False

    @api.depends_context("company", "uid", "lang")
    @api.depends("commercial_partner_id")
    def _compute_collections_why_short(self):
        company = self.env.company
        decisions = self.commercial_partner_id.filtered("id")._collections_decide(company, explain=True)
        Why = self.env["collections.why"]
        for partner in self:
            _policy, decision = decisions.get(partner.commercial_partner_id.id, (None, None))
            head = decision.trace[0] if decision and decision.trace else None
            partner.collections_why_short = Why._short_sentence(
                {"code": head.code, **{key: to_json(value) for key, value in head.values.items()}},
                company.currency_id,
            ) if head else False
