from odoo import api, fields, models

from .collections_guard import check_protected

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
        """True when this open item's residual exists in company currency only (its document's currency residual is
        zero): an exchange difference to book, neither chased nor offered (collections_ledger.EXCHANGE_ONLY in SQL,
        engine.EXCHANGE_DIFFERENCE)."""
        self.ensure_one()
        return self.currency_id != self.company_currency_id and self.currency_id.is_zero(self.amount_residual_currency)
