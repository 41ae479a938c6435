from odoo import fields, models
from odoo.tools import SQL

from ..engine.aging import AGING_BUCKETS
from ..models.collections_ledger import OPEN_LINE, ROOT_COMPANY
from ..models.res_partner_contacts import collector_sql

# The report's bucket values sort in age order ("0" not due ... "5" over 120),
# so pivots and graphs show the columns youngest first.
BUCKETS = [(str(index), label) for index, (_key, label, *_rest) in enumerate(AGING_BUCKETS)]


def _bucket_case(days_late: SQL) -> SQL:
    """SQL CASE giving the engine's aging bucket for a number of days late."""
    whens = []
    for index, (_key, _label, low, high) in enumerate(AGING_BUCKETS):
        conditions = []
        if low is not None:
            conditions.append(SQL("%s >= %s", days_late, low))
        if high is not None:
            conditions.append(SQL("%s <= %s", days_late, high))
        whens.append(SQL("WHEN %s THEN %s", SQL(" AND ").join(conditions), str(index)))
    return SQL("CASE %s END", SQL(" ").join(whens))


class CollectionsAgingReport(models.Model):
    """Open receivables by age: one row per open receivable journal item, straight from the ledger."""

    _name = "collections.aging.report"
    _description = "Receivables Aging"
    _auto = False
    _order = "days_late desc, id"
    _rec_name = "move_id"
    # What the view reads: the ORM flushes these before querying it.
    _depends = {
        "account.move.line": [
            "account_id", "amount_residual", "amount_residual_currency", "company_id", "company_currency_id",
            "currency_id", "date", "date_maturity", "move_id", "parent_state", "partner_id", "reconciled",
        ],
        "collections.item.level": ["line_id", "level_id"],
        "account.account": ["account_type"],
        "res.company": ["parent_path"],
        "res.partner": ["commercial_partner_id", "collections_user_id", "collections_policy_id",
                        "collections_segment_id"],
        "collections.policy": ["user_id", "company_id", "is_default", "active"],
        "collections.segment": ["policy_id"],
    }

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, help="The company that follows the item up: the "
                                 "root of its company's hierarchy.")
    branch_id = fields.Many2one("res.company", readonly=True,
                                help="The item's own company (a branch of the company that follows it up, or itself).")
    currency_id = fields.Many2one("res.currency", string="Company Currency", readonly=True)
    document_currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    move_id = fields.Many2one("account.move", string="Document", readonly=True)
    account_id = fields.Many2one("account.account", readonly=True)
    collector_id = fields.Many2one("res.users", readonly=True)
    segment_id = fields.Many2one("collections.segment", readonly=True)
    level_id = fields.Many2one("collections.level", string="Follow-up Level", readonly=True)
    date_due = fields.Date(string="Due Date", readonly=True)
    days_late = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(BUCKETS, string="Age", readonly=True)
    amount_residual = fields.Monetary(string="Amount Due", readonly=True, currency_field="currency_id")
    amount_residual_currency = fields.Monetary(
        string="Amount Due in Currency", readonly=True, currency_field="document_currency_id", aggregator=False,
    )

    @property
    def _table_query(self) -> SQL:
        # Days late as of the user's day (its time zone), as every other screen counts them.
        days_late = SQL("(%s::date - COALESCE(line.date_maturity, line.date))", fields.Date.context_today(self))
        return SQL(
            """
            SELECT line.id,
                   partner.commercial_partner_id AS partner_id,
                   %(root)s AS company_id,
                   line.company_id AS branch_id,
                   line.company_currency_id AS currency_id,
                   line.currency_id AS document_currency_id,
                   line.move_id,
                   line.account_id,
                   %(collector)s AS collector_id,
                   (commercial.collections_segment_id ->> %(root)s::text)::int AS segment_id,
                   reached.level_id AS level_id,
                   COALESCE(line.date_maturity, line.date) AS date_due,
                   GREATEST(%(days_late)s, 0) AS days_late,
                   %(bucket)s AS bucket,
                   line.amount_residual,
                   line.amount_residual_currency
              FROM account_move_line line
              JOIN account_account account ON account.id = line.account_id
              JOIN account_move move ON move.id = line.move_id
              JOIN res_partner partner ON partner.id = line.partner_id
              JOIN res_partner commercial ON commercial.id = partner.commercial_partner_id
              JOIN res_company line_company ON line_company.id = line.company_id
         LEFT JOIN collections_item_level reached ON reached.line_id = line.id
             WHERE %(open_lines)s
            """,
            open_lines=OPEN_LINE,
            root=ROOT_COMPANY,
            collector=collector_sql(SQL("commercial"), SQL("%s::text", ROOT_COMPANY), ROOT_COMPANY),
            days_late=days_late,
            bucket=_bucket_case(days_late),
        )
