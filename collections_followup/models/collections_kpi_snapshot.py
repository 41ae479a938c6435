from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import kpi

# Length of the period DSO, CEI and the rates are measured over.
PERIOD_DAYS = 90
COUNT_BACK_MONTHS = 12


class CollectionsKpiSnapshot(models.Model):
    """The collections KPIs of a company on a day, kept so trends can be shown.

    Ledger figures are rebuilt as of the snapshot's date from the journal
    items and the dates of their reconciliations, so a snapshot taken late
    (or recomputed) says what the books said that day.

    Why its sudo() calls are safe: figures are aggregates of one company (every
    domain filters on it), computed by the nightly job or for the dashboard and the
    management report, which check who asks (collections users and managers);
    snapshots themselves are readable by collections users of their company only."""

    _name = "collections.kpi.snapshot"
    _description = "Collections KPI Snapshot"
    _order = "company_id, date desc"
    _rec_name = "date"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, readonly=True)
    period_days = fields.Integer(readonly=True, default=PERIOD_DAYS)
    ar_total = fields.Monetary(aggregator="avg", string="Receivables", readonly=True)
    ar_current = fields.Monetary(aggregator="avg", string="Not Yet Due", readonly=True)
    ar_overdue = fields.Monetary(aggregator="avg", string="Overdue", readonly=True)
    ar_beginning = fields.Monetary(aggregator="avg", string="Receivables at Period Start", readonly=True)
    credit_sales = fields.Monetary(aggregator="avg", readonly=True, help="Invoiced less credit notes over the period.")
    dso = fields.Float(aggregator="avg", string="DSO", digits=(16, 1), readonly=True)
    dso_count_back = fields.Float(aggregator="avg", string="DSO (Count-back)", digits=(16, 1), readonly=True)
    best_dso = fields.Float(aggregator="avg", string="Best Possible DSO", digits=(16, 1), readonly=True)
    add = fields.Float(aggregator="avg", string="Average Days Delinquent", digits=(16, 1), readonly=True)
    cei = fields.Float(aggregator="avg", string="CEI (%)", digits=(16, 1), readonly=True)
    share_current = fields.Float(aggregator="avg", string="Current (%)", digits=(16, 1), readonly=True)
    promise_kept_rate = fields.Float(aggregator="avg", string="Promises Kept (%)", digits=(16, 1), readonly=True)
    plan_completion_rate = fields.Float(aggregator="avg", string="Plans Completed (%)", digits=(16, 1), readonly=True)
    disputes_opened = fields.Integer(aggregator="avg", readonly=True)
    disputes_open = fields.Integer(aggregator="avg", string="Disputes Still Open", readonly=True)
    dispute_resolution_days = fields.Float(
        aggregator="avg", string="Days to Settle a Dispute", digits=(16, 1), readonly=True,
    )
    agency_placed = fields.Monetary(aggregator="avg", string="Placed with Agencies", readonly=True)
    agency_recovered = fields.Monetary(aggregator="avg", string="Recovered by Agencies", readonly=True)

    # Each figure is a level on a day: grouped over several days (a week in
    # the graph), it is averaged, never added up.
    _one_per_day = models.UniqueIndex("(company_id, date)", "A company has one KPI snapshot per day.")

    @api.model
    def _cron_snapshot(self):
        today = fields.Date.context_today(self)
        for company in self.env["collections.policy"]._followed_companies():
            self.sudo()._take(company, today)

    @api.model
    def _take(self, company, day):
        """Create or refresh the company's snapshot of ``day``."""
        values = self._figures(company, day)
        snapshot = self.search([("company_id", "=", company.id), ("date", "=", day)])
        if snapshot:
            snapshot.write(values)
            return snapshot
        return self.create({"company_id": company.id, "date": day, **values})

    # ------------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------------

    @api.model
    def _ledger(self, company, day):
        """(AR total, AR not yet due) as of ``day`` end, company currency.

        Like the aging report, each journal item counts in its own age with
        what it still owed that day: an unallocated credit note not yet due
        lowers the current part, a late one the overdue part."""
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        self.env["account.account"].flush_model(["account_type"])
        [(total, current)] = self.env.execute_query(SQL(
            """
            SELECT COALESCE(SUM(line.balance), 0),
                   COALESCE(SUM(CASE WHEN COALESCE(line.date_maturity, line.date) >= %(day)s
                                     THEN line.balance
                                          - COALESCE((SELECT SUM(part.amount) FROM account_partial_reconcile part
                                                       WHERE part.debit_move_id = line.id
                                                         AND part.max_date <= %(day)s), 0)
                                          + COALESCE((SELECT SUM(part.amount) FROM account_partial_reconcile part
                                                       WHERE part.credit_move_id = line.id
                                                         AND part.max_date <= %(day)s), 0)
                                     ELSE 0 END), 0)
              FROM account_move_line line
              JOIN account_account account ON account.id = line.account_id
             WHERE line.company_id IN %(company)s
               AND account.account_type = 'asset_receivable'
               AND line.parent_state = 'posted'
               AND line.date <= %(day)s
            """,
            company=self.env["collections.ledger"]._company_sql(company), day=day,
        ))
        return Decimal(str(total)), Decimal(str(current))

    @api.model
    def _sales(self, company, date_from, date_to):
        """Credit sales (invoices less credit notes) dated in (date_from, date_to]."""
        [(sales,)] = self.env.execute_query(SQL(
            """
            SELECT COALESCE(SUM(line.balance), 0)
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              JOIN account_account account ON account.id = line.account_id
             WHERE line.company_id IN %(company)s
               AND account.account_type = 'asset_receivable'
               AND move.state = 'posted'
               AND move.move_type IN ('out_invoice', 'out_refund')
               AND line.date > %(date_from)s AND line.date <= %(date_to)s
            """,
            company=self.env["collections.ledger"]._company_sql(company), date_from=date_from, date_to=date_to,
        ))
        return Decimal(str(sales))

    @api.model
    def _figures(self, company, day, days=PERIOD_DAYS):
        start = day - timedelta(days=days)
        total, current = self._ledger(company, day)
        beginning, _current = self._ledger(company, start)
        sales = self._sales(company, start, day)
        # Calendar months back from the day, always counted from the day itself
        # (31 Mar, 28 Feb, 31 Jan...), never from the previous, clamped, month end.
        bounds = [day - relativedelta(months=i) for i in range(COUNT_BACK_MONTHS + 1)]
        months = [
            ((end - begin).days, self._sales(company, begin, end)) for end, begin in pairwise(bounds)
        ]
        dso = kpi.dso_standard(total, sales, days)
        best = kpi.best_possible_dso(current, sales, days)
        return {
            "period_days": days,
            "ar_total": float(total),
            "ar_current": float(current),
            "ar_overdue": float(total - current),
            "ar_beginning": float(beginning),
            "credit_sales": float(sales),
            "dso": _float(dso),
            "dso_count_back": _float(kpi.dso_count_back(total, months)),
            "best_dso": _float(best),
            "add": _float(kpi.average_days_delinquent(dso, best)),
            "cei": _float(kpi.cei(beginning, sales, total, current)),
            "share_current": _float(kpi.share(current, total)),
            **self._activity_figures(company, start, day),
        }

    @api.model
    def _closed_promises(self, company, start, day):
        """{"kept": n, "broken": n}: the company's promises closed over (start, day]."""
        return dict(self.env["collections.promise"].sudo()._read_group(
            [("company_id", "=", company.id), ("closed_date", ">", start), ("closed_date", "<=", day),
             ("state", "in", ("kept", "broken"))], ["state"], ["__count"],
        ))

    @api.model
    def _activity_figures(self, company, start, day):
        """Promises, plans, disputes and agencies over (start, day]."""
        in_period = [("company_id", "=", company.id), ("closed_date", ">", start), ("closed_date", "<=", day)]
        promises = self._closed_promises(company, start, day)
        plans = dict(self.env["collections.payment.plan"].sudo()._read_group(
            [*in_period, ("state", "in", ("completed", "broken"))], ["state"], ["__count"],
        ))
        Dispute = self.env["collections.dispute"].sudo()
        company_domain = [("company_id", "=", company.id)]
        opened = Dispute.search_count([
            *company_domain, ("opened_date", ">", start), ("opened_date", "<=", day),
        ])
        still_open = Dispute.search_count([*company_domain, ("state", "in", ("open", "review"))])
        settled = Dispute.search([
            *company_domain, ("state", "in", ("resolved", "rejected")),
            ("resolved_date", ">", start), ("resolved_date", "<=", day),
        ])
        cases = self.env["collections.case"].sudo().search([
            *company_domain, ("case_type", "=", "agency"), ("placed_date", "!=", False),
            ("placed_date", "<=", day), "|", ("closed_date", "=", False), ("closed_date", ">", start),
        ])
        return {
            "promise_kept_rate": _float(kpi.success_rate(promises.get("kept", 0), promises.get("broken", 0))),
            "plan_completion_rate": _float(kpi.success_rate(plans.get("completed", 0), plans.get("broken", 0))),
            "disputes_opened": opened,
            "disputes_open": still_open,
            "dispute_resolution_days": _float(kpi.average(
                (dispute.resolved_date - dispute.opened_date).days for dispute in settled
            )),
            "agency_placed": sum(cases.filtered(lambda c: c.placed_date > start).mapped("amount_basis")),
            "agency_recovered": sum(cases.mapped("amount_recovered")),
        }


def _float(value):
    """Decimal KPI to a float field (0.0 when it has no meaning, e.g. no sales)."""
    return float(value) if value is not None else 0.0
