from odoo import api, fields, models
from odoo.tools import SQL


class CollectionsJobPeriod(models.Model):
    """What a scheduled job that sends has sent, per company and period: once is once.

    A job claims (job, company, period) in the transaction that creates what it
    sends: a job killed before its commit leaves neither, a job run again (Odoo
    re-runs an interrupted job; a manager may run it by hand) or twice at once
    finds the claim and sends nothing more (the second INSERT waits for the first
    transaction, then does nothing)."""

    _name = "collections.job.period"
    _description = "Collections: scheduled sending done for a period"
    _order = "period_start desc, id desc"

    job = fields.Char(required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    period_start = fields.Date(required=True, readonly=True)

    _once_per_period = models.UniqueIndex("(job, company_id, period_start)")

    @api.model
    def _claim(self, job, company, period_start):
        """True when (job, company, period) was not claimed yet, and claims it."""
        rows = self.env.execute_query(SQL(
            """
            INSERT INTO collections_job_period (job, company_id, period_start, create_uid, create_date,
                                                write_uid, write_date)
                 VALUES (%(job)s, %(company)s, %(start)s, %(uid)s, now() AT TIME ZONE 'UTC',
                         %(uid)s, now() AT TIME ZONE 'UTC')
            ON CONFLICT DO NOTHING
              RETURNING id
            """,
            job=job, company=company.id, start=period_start, uid=self.env.uid,
        ))
        return bool(rows)
