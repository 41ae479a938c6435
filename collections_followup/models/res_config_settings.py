from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    collections_run_workers = fields.Integer(
        string="Follow-up Run Workers",
        help="How many scheduled actions send the daily follow-ups together, each starting at another point of the "
             "customers and skipping those another one holds or handled (each customer is reminded once). Odoo runs "
             "as many at once as it has cron threads (max_cron_threads, 2 by default, per server): with more Odoo "
             "servers on the database, more workers run at once.",
    )

    @api.model
    def get_values(self):
        return {**super().get_values(), "collections_run_workers": self.env["collections.run"]._workers()}

    def set_values(self):
        result = super().set_values()
        Run = self.env["collections.run"]
        if self.collections_run_workers != Run._workers():
            Run._set_workers(self.collections_run_workers)
        return result
