from odoo import api, fields, models

from ..engine.kpi import cash_expectation

SOURCES = [
    ("overdue", "Overdue Invoices"),
    ("invoice", "Invoices Falling Due"),
    ("plan", "Plan Instalments"),
    ("promise", "Promises to Pay"),
]


class CollectionsCashForecast(models.Model):
    """Expected receipts per week and customer, rebuilt when opened."""

    _name = "collections.cash.forecast"
    _description = "Cash Expectation"
    _order = "week, source"
    _rec_name = "week"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    week = fields.Date(string="Week of", required=True, readonly=True, help="Monday of the week.")
    source = fields.Selection(SOURCES, required=True, readonly=True)
    amount = fields.Monetary(string="Expected", readonly=True)

    @api.model
    def action_open(self):
        """Rebuild the current company's forecast, then show it."""
        # Callable through RPC by any internal user: only those who may read the rows rebuild them.
        self.check_access("read")
        # sudo: rebuilt for the user's current company only, by a user allowed to read it (checked above).
        self.sudo()._rebuild(self.env.company, fields.Date.context_today(self))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "collections_followup.action_collections_cash_forecast_view")
        action["domain"] = [("company_id", "=", self.env.company.id)]
        return action

    @api.model
    def _rebuild(self, company, today, weeks=12):
        Plan = self.env["collections.payment.plan"]
        plans = Plan.search([("company_id", "=", company.id), ("state", "=", "active")])
        promises = self.env["collections.promise"].search([("company_id", "=", company.id), ("state", "=", "open")])
        arranged = plans.move_ids | promises.move_ids
        per_partner = {}
        items = self.env["collections.ledger"]._open_items(company, pauses=False)
        for partner_id, partner_items in items.items():
            per_partner.setdefault(partner_id, {"invoices": [], "instalments": [], "promises": []})["invoices"] = [
                (item.due_date, item.residual) for item in partner_items
                if item.move_id not in arranged.ids and not item.excluded
            ]
        for plan in plans:
            bucket = per_partner.setdefault(plan.partner_id.id, {"invoices": [], "instalments": [], "promises": []})
            bucket["instalments"] += [(line.due_date, line.remaining) for line in plan.line_ids]
        for promise in promises:
            bucket = per_partner.setdefault(promise.partner_id.id, {"invoices": [], "instalments": [], "promises": []})
            bucket["promises"].append((promise.promised_date, max(promise.amount - promise.amount_paid, 0.0)))
        self.search([("company_id", "=", company.id)]).unlink()
        rows = []
        for partner_id, sources in per_partner.items():
            for (week, source), amount in cash_expectation(today, weeks=weeks, **sources).items():
                rows.append({
                    "company_id": company.id, "partner_id": partner_id, "week": week,
                    "source": source, "amount": float(amount),
                })
        return self.create(rows)
