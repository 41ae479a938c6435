from odoo import api, fields, models
from odoo.tools import SQL

from .collections_guard import check_protected
from .collections_ledger import EXCHANGE_ONLY

# Written by the ledger's one writer of levels (collections.ledger._set_levels) only.
PROTECTED_LINE_FIELDS = frozenset({"collections_level_id", "collections_last_reminder_date"})


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # On receivable journal items: each instalment of an invoice climbs the levels on its own.
    collections_level_id = fields.Many2one(
        "collections.level", string="Follow-up Level", readonly=True, copy=False, index="btree_not_null",
        help="Last follow-up level this receivable item (an invoice, or one instalment of it) reached.",
    )
    collections_last_reminder_date = fields.Date(string="Last Reminder", readonly=True, copy=False)

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
