from odoo import api, fields, models
from odoo.exceptions import AccessError


class ReportCollectionsManagement(models.AbstractModel):
    _name = "report.collections_followup.report_collections_management"
    _description = "Collections Management Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        if not self.env.user.has_group("collections_followup.group_collections_manager"):
            raise AccessError(self.env._("The collections management report is for Collections Managers."))
        data = data or {}
        companies = self.env["res.company"].browse(docids or self.env.company.ids)
        day = fields.Date.to_date(data.get("date_to")) or fields.Date.context_today(self)
        days = int(data.get("period_days") or 90)
        return {
            "doc_ids": companies.ids,
            "doc_model": "res.company",
            "docs": companies,
            "data": self.env["collections.dashboard"]._data(companies[:1], day, days),
        }
