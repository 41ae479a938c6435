from odoo import api, fields, models
from odoo.tools import SQL

from .collections_guard import check_protected
from .collections_item_level import level_sql, search_level
from .collections_ledger import EXCHANGE_ONLY

# Written by the ledger's one writer of levels (collections.ledger._set_levels) only.
PROTECTED_LINE_FIELDS = frozenset({"collections_level_id", "collections_last_reminder_date"})


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # On receivable journal items: each instalment of an invoice climbs the levels on its own. Kept in the addon's
    # own narrow table (collections_item_level), not on the accounting row: read, searched and grouped by here.
    collections_level_id = fields.Many2one(
        "collections.level", string="Follow-up Level", compute="_compute_collections_level",
        search="_search_collections_level_id",
        help="Last follow-up level this receivable item (an invoice, or one instalment of it) reached.",
    )
    collections_last_reminder_date = fields.Date(string="Last Reminder", compute="_compute_collections_level",
                                                 search="_search_collections_last_reminder_date")

    def _compute_collections_level(self):
        # sudo: bookkeeping of the follow-up of journal items the caller already reads.
        rows = self.env["collections.item.level"].sudo().search_fetch(
            [("line_id", "in", self.ids)], ["line_id", "level_id", "reminded_on"])
        by_line = {row.line_id.id: row for row in rows}
        Level = self.env["collections.level"]
        for line in self:
            row = by_line.get(line.id)
            line.collections_level_id = Level.browse(row.level_id.id) if row else Level
            line.collections_last_reminder_date = row.reminded_on if row else False

    def _search_collections_level_id(self, operator, value):
        return search_level(self, "collections.item.level", "line_id", "level_id", operator, value)

    def _search_collections_last_reminder_date(self, operator, value):
        return search_level(self, "collections.item.level", "line_id", "reminded_on", operator, value)

    def _field_to_sql(self, alias, field_expr, query=None):
        if field_expr == "collections_level_id":
            return level_sql("collections_item_level", "line_id", alias, "level_id")
        if field_expr == "collections_last_reminder_date":
            return level_sql("collections_item_level", "line_id", alias, "reminded_on")
        return super()._field_to_sql(alias, field_expr, query)

    @api.model
    def _collections_protected_fields(self):
        """Fields only Collections sets (collections_guard)."""
        return PROTECTED_LINE_FIELDS

    @api.model_create_multi
    def create(self, vals_list):
        check_protected(self, vals_list, PROTECTED_LINE_FIELDS, create=True)
        return super().create(vals_list)

    def write(self, vals):
        check_protected(self, [vals], PROTECTED_LINE_FIELDS)
        return super().write(vals)

    def _collections_exchange_only(self):
        """Ids of these open items that are exchange differences to book, neither chased nor offered: a residual in
        company currency only, or a customer's open items in a foreign currency that together owe nothing in it.
        One definition, collections_ledger.EXCHANGE_ONLY, read in one query."""
        if not self:
            return set()
        # The customer's other open items are read too (their sum in the currency).
        self.flush_model(["currency_id", "company_currency_id", "amount_residual_currency", "amount_residual",
                          "reconciled", "parent_state", "account_id", "partner_id", "company_id"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        return {row[0] for row in self.env.execute_query(SQL(
            "SELECT line.id FROM account_move_line line WHERE line.id = ANY(%s) AND %s", self.ids, EXCHANGE_ONLY))}
