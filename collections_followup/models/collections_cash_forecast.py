from odoo import api, fields, models

SOURCES = [
    ("invoice", "Open Invoices"),
    ("plan", "Plan Instalments"),
    ("promise", "Promises to Pay"),
    ("seen", "Payments Seen"),
    ("dispute", "Disputed"),
    ("contractual", "Due Dates Alone"),
]


class CollectionsCashForecast(models.Model):
    """Expected receipts per week and customer (collections.forecast): what each customer's history says
    (*Expected*), beside what the due dates alone say (*Due Dates Alone*, the contractual series)."""

    _name = "collections.cash.forecast"
    _description = "Cash Forecast"
    _order = "week, source"
    _rec_name = "week"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    segment_id = fields.Many2one("collections.segment", readonly=True)
    week = fields.Date(string="Week of", required=True, readonly=True, help="Monday of the week.")
    source = fields.Selection(SOURCES, required=True, readonly=True)
    amount = fields.Monetary(string="Expected", readonly=True,
                             help="Each open amount times its chance of being paid that week, from the customer's "
                                  "paid history.")
    contractual = fields.Monetary(string="Due Dates Alone", readonly=True,
                                  help="Open amounts in the week they fall due (what is late: this week).")

    @api.model
    def action_open(self):
        """The current company's forecast (rebuilt when it is not of today), then show it."""
        # Callable through RPC by any internal user: only those who may read the rows rebuild them.
        self.check_access("read")
        # sudo: rebuilt for the user's current company only, by a user allowed to read it (checked above).
        company = self.env["collections.forecast"].sudo()._ensure(self.env.company, fields.Date.context_today(self))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "collections_followup.action_collections_cash_forecast_view")
        action["domain"] = [("company_id", "=", company.id)]
        return action
