from odoo import fields, models
from odoo.tools import SQL

from .collections_ledger import CHASED_DEBT, OPEN_LINE, ROOT_COMPANY, UNAPPLIED_CREDIT
from .res_partner_contacts import collector_sql

# Kanban columns, in the order a collector works them.
STAGES = [
    ("to_contact", "To Contact"),
    ("call", "Call Planned"),
    ("promise", "Promised"),
    ("plan", "Payment Plan"),
    ("dispute", "Disputed"),
    ("agency", "Agency / Legal"),
]

# Unknown behaviour (no score yet) weighs like a middling one.
UNKNOWN_SCORE = 50


class CollectionsWorklist(models.Model):
    """'My collections': one row per customer with something overdue, read live from the ledger.

    Priority = amount overdue (company currency) x oldest days late x risk, where
    risk = 1 + (100 - payment score) / 100 (from 1 for the best payers to 2 for
    the worst; 1.5 without a score). README.md, "Worklist"."""

    _name = "collections.worklist"
    _description = "Collections Worklist"
    _auto = False
    _order = "priority desc, partner_id"
    _rec_name = "partner_id"
    _depends = {
        "account.move.line": [
            "account_id", "amount_residual", "amount_residual_currency", "company_id", "company_currency_id",
            "currency_id", "date", "date_maturity", "no_followup", "parent_state", "partner_id", "reconciled",
        ],
        "res.company": ["parent_path"],
        "res.partner": [
            "commercial_partner_id", "collections_user_id", "collections_policy_id", "collections_segment_id",
            "collections_score", "collections_excluded", "collections_credit_hold",
        ],
        "collections.promise": ["state", "promised_date", "partner_id"],
        "collections.payment.plan": ["state", "partner_id"],
        "collections.dispute": ["state", "partner_id"],
        "collections.case": ["state", "partner_id"],
        "mail.activity": ["res_model", "res_id", "activity_type_id", "date_deadline"],
        "collections.forecast.item": ["partner_id", "company_id", "expected_loss"],
    }

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    segment_id = fields.Many2one("collections.segment", readonly=True)
    score = fields.Integer(string="Payment Score", readonly=True, aggregator="avg")
    amount_overdue = fields.Monetary(string="Overdue", readonly=True)
    amount_due = fields.Monetary(string="Total Due", readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True, help="Overdue invoices.")
    days_late = fields.Integer(
        readonly=True, aggregator="max", help="Days late of the oldest overdue invoice.",
    )
    priority = fields.Float(readonly=True, digits=(16, 0), aggregator="sum")
    expected_loss = fields.Monetary(
        readonly=True, help="Open amounts times their chance of not being paid within 90 days (Cash Forecast: "
                            "from the customer's paid history, as of the forecast's last rebuild).")
    stage = fields.Selection(STAGES, string="Status", readonly=True, group_expand="_expand_stages")
    next_call = fields.Date(string="Call Planned", readonly=True)
    promise_date = fields.Date(string="Promised For", readonly=True)
    phone = fields.Char(related="partner_id.phone")
    credit_hold = fields.Boolean(string="On Credit Hold", readonly=True)
    status = fields.Selection(related="partner_id.collections_status", string="Follow-up")
    next_level_id = fields.Many2one(related="partner_id.collections_next_level_id", string="Next Level")
    next_action_date = fields.Date(related="partner_id.collections_next_action_date", string="Next Action")
    reason = fields.Char(related="partner_id.collections_why_short", string="Why")

    def _expand_stages(self, stages, domain):
        return [key for key, _label in STAGES]

    @property
    def _table_query(self) -> SQL:
        today = fields.Date.context_today(self)
        company = SQL("c.company_id::text")
        return SQL(
            """
            WITH items AS (
                SELECT partner.commercial_partner_id AS partner_id,
                       %(root)s AS company_id,
                       line.company_currency_id AS currency_id,
                       line.amount_residual,
                       %(today)s::date - COALESCE(line.date_maturity, line.date) AS days_late,
                       %(chased)s AS chased,
                       %(credit)s AS credit
                  FROM account_move_line line
                  JOIN account_account account ON account.id = line.account_id
                  JOIN res_partner partner ON partner.id = line.partner_id
                  JOIN res_company line_company ON line_company.id = line.company_id
                 WHERE %(open_lines)s
            ), customers AS (
                -- The ledger's one overdue figure (engine: PartnerDecision.net_overdue): late debts followed up
                -- less every unapplied credit, never below zero; the total due is the ledger's balance.
                SELECT partner_id, company_id, MIN(currency_id) AS currency_id,
                       GREATEST(COALESCE(SUM(amount_residual) FILTER (WHERE chased AND days_late > 0), 0)
                                + COALESCE(SUM(amount_residual) FILTER (WHERE credit), 0), 0) AS amount_overdue,
                       SUM(amount_residual) AS amount_due,
                       COUNT(*) FILTER (WHERE chased AND days_late > 0) AS invoice_count,
                       MAX(days_late) FILTER (WHERE chased) AS days_late
                  FROM items
                 GROUP BY partner_id, company_id
            )
            SELECT row_number() OVER (ORDER BY c.partner_id, c.company_id) AS id,
                   c.partner_id, c.company_id, c.currency_id,
                   %(collector)s AS user_id,
                   (p.collections_segment_id ->> %(company)s)::int AS segment_id,
                   (p.collections_score ->> %(company)s)::int AS score,
                   COALESCE((p.collections_credit_hold ->> %(company)s)::boolean, FALSE) AS credit_hold,
                   c.amount_overdue, c.amount_due, c.invoice_count, c.days_late,
                   c.amount_overdue * c.days_late
                       * (1 + (100 - COALESCE((p.collections_score ->> %(company)s)::int, %(unknown)s)) / 100.0)
                       AS priority,
                   (SELECT SUM(item.expected_loss) FROM collections_forecast_item item
                     WHERE item.partner_id = c.partner_id AND item.company_id = c.company_id) AS expected_loss,
                   CASE
                       WHEN EXISTS (SELECT 1 FROM collections_dispute d WHERE d.partner_id = c.partner_id
                                       AND d.company_id = c.company_id AND d.state IN ('open', 'review'))
                           THEN 'dispute'
                       WHEN EXISTS (SELECT 1 FROM collections_case k WHERE k.partner_id = c.partner_id
                                       AND k.company_id = c.company_id AND k.state = 'open')
                           THEN 'agency'
                       WHEN EXISTS (SELECT 1 FROM collections_payment_plan pl WHERE pl.partner_id = c.partner_id
                                       AND pl.company_id = c.company_id AND pl.state = 'active')
                           THEN 'plan'
                       WHEN promise.promised_date IS NOT NULL THEN 'promise'
                       WHEN call.deadline IS NOT NULL THEN 'call'
                       ELSE 'to_contact'
                   END AS stage,
                   call.deadline AS next_call,
                   promise.promised_date AS promise_date
              FROM customers c
              JOIN res_partner p ON p.id = c.partner_id
              LEFT JOIN LATERAL (
                   SELECT MIN(pr.promised_date) AS promised_date FROM collections_promise pr
                    WHERE pr.partner_id = c.partner_id AND pr.company_id = c.company_id AND pr.state = 'open'
              ) promise ON TRUE
              LEFT JOIN LATERAL (
                   SELECT MIN(act.date_deadline) AS deadline
                     FROM mail_activity act
                     JOIN mail_activity_type kind ON kind.id = act.activity_type_id
                    WHERE act.res_model = 'res.partner' AND act.res_id = c.partner_id
                      AND kind.category = 'phonecall' AND act.active
              ) call ON TRUE
             WHERE c.amount_overdue > 0
               AND NOT COALESCE((p.collections_excluded ->> %(company)s)::boolean, FALSE)
            """,
            open_lines=OPEN_LINE,
            root=ROOT_COMPANY,
            chased=CHASED_DEBT,
            credit=UNAPPLIED_CREDIT,
            today=today,
            company=company,
            collector=collector_sql(SQL("p"), company, SQL("c.company_id")),
            unknown=UNKNOWN_SCORE,
        )

    def action_open_customer(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def action_log_call(self):
        self.ensure_one()
        return self.partner_id.with_company(self.company_id).action_collections_log_call()

    def action_send(self):
        self.ensure_one()
        return self.partner_id.with_company(self.company_id).action_collections_send()
