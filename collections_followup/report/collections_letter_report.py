"""The follow-up letter and the statement of account: their data through Odoo's report models, from the
report's ``data`` (what the letter is about, as the run or the send wizard decided it), not from context keys."""
from odoo import api, models


class ReportFollowupLetter(models.AbstractModel):
    _name = "report.collections_followup.report_followup_letter"
    _description = "Follow-up Letter"

    @api.model
    def _get_report_values(self, docids, data=None):
        """``data``: level_id, move_ids (the invoices the letter is about; none: every open item),
        listed_items ([move id, days late] of the decision), fees ([invoice, amount, days late, currency id]). The same
        keys from a print action (JSON) or from the run (Python values)."""
        data = data or {}
        partners = self.env["res.partner"].browse(docids)
        # /report/html and /report/pdf are open to every employee: the ledger is read with sudo below.
        partners._collections_check_receivables_access()
        level = self.env["collections.level"].browse(data.get("level_id")).exists()
        move_ids = data.get("move_ids")
        # Tuples: the ledger compares the items as (move id, days late) pairs.
        listed = tuple(tuple(item) for item in data.get("listed_items") or ()) or None
        fees = tuple(tuple(fee) for fee in data.get("fees") or ())
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            # In the customer's language, as the letter is printed (its rows name instalments).
            "letters": {partner.id: partner.with_context(lang=partner.lang)._collections_letter_data(
                level=level, move_ids=None if move_ids is None else list(move_ids), listed_items=listed, fees=fees,
            ) for partner in partners},
        }


class ReportCollectionsStatement(models.AbstractModel):
    _name = "report.collections_followup.report_collections_statement"
    _description = "Customer Statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids)
        partners._collections_check_receivables_access()  # as the letter's
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            # In the customer's language, as the statement is printed.
            "statements": {partner.id: partner.with_context(lang=partner.lang)._collections_statement_data()
                           for partner in partners},
        }
