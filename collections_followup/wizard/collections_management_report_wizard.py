from odoo import fields, models
from odoo.exceptions import ValidationError


class CollectionsManagementReportWizard(models.TransientModel):
    _name = "collections.management.report.wizard"
    _description = "Print the Collections Management Report"

    date_to = fields.Date(string="As of", required=True, default=fields.Date.context_today)
    period_days = fields.Integer(string="Period (days)", required=True, default=90)

    def action_print(self):
        self.ensure_one()
        if self.period_days < 1:
            raise ValidationError(self.env._("The period must be at least one day."))
        return self.env.ref("collections_followup.action_report_collections_management").report_action(
            self.env.company, data={"date_to": fields.Date.to_string(self.date_to), "period_days": self.period_days},
        )
