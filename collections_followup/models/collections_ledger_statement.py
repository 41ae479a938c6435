"""The ledger's statement of account: a customer's open items and activity per currency, and the history of a
receivable's balance (the days each amount was owed, for statutory interest). Read from Odoo's journal items,
as everything of collections.ledger."""
from collections import defaultdict
from datetime import date
from decimal import Decimal

from odoo import api, models

from ..engine import AGING_BUCKETS, aging_bucket, days_late
from ..engine.fees import BalanceChange
from .collections_ledger import reference


class CollectionsLedger(models.AbstractModel):
    _inherit = "collections.ledger"

    @api.model
    def _statement(self, partner, company, today, date_from):
        """The statement of account: the open items per document currency (a section per currency,
        each with its items, their aging and its total due), then the account's activity since
        ``date_from`` with a running balance ending on what is open.

        The activity is per document currency when each currency's history ends on that currency's
        open items (the usual case: invoices paid in their own currency); when documents were
        reconciled across currencies (a euro invoice paid in dollars), a per-currency balance would
        not end on what is open, and the activity is one account in the company's currency."""
        rows = self._rows(partner, company, today)
        sections = []
        for currency in dict.fromkeys(row["currency"] for row in rows):
            lines = [row for row in rows if row["currency"] == currency]
            buckets = {key: 0.0 for key, *_rest in AGING_BUCKETS}
            for row in lines:
                buckets[aging_bucket(days_late(row["due"], today) if row["due"] else 0)] += row["residual"]
            sections.append({
                "currency": currency,
                "lines": lines,
                "buckets": [(label, buckets[key]) for key, label, *_rest in AGING_BUCKETS],
                "total": currency.round(sum(buckets.values())),
            })
        open_by_currency = defaultdict(float)
        for row in rows:
            open_by_currency[row["currency"]] += row["residual"]
        activity = self._activity(partner, company, date_from)
        if any(not currency.is_zero(section["closing"] - open_by_currency.get(currency, 0.0))
               for currency, section in activity.items()):
            activity = self._activity(partner, company, date_from, in_company_currency=True)
        def company_first(section):  # the company's currency first, then the others by name, in both parts
            return section["currency"] != company.currency_id, section["currency"].name

        return {"sections": sorted(sections, key=company_first),
                "activity": sorted(activity.values(), key=company_first)}

    @api.model
    def _activity(self, partner, company, date_from, in_company_currency=False):
        """{currency: activity}: the customer's receivable account as the ledger has it, from
        ``date_from`` on (entries dated after today included), per document currency (or all of it
        in the company's): the balance brought forward, then every posted receivable journal item
        (invoices, credit notes, payments and bank statement lines reconciled with them,
        write-offs, exchange differences) with what it was matched with
        (account.partial.reconcile) and the running balance."""
        commercial = partner.commercial_partner_id
        # sudo: the customer's own receivable, for its own statement (collector, or the customer on the portal).
        Line = self.env["account.move.line"].sudo()
        domain = [
            ("partner_id.commercial_partner_id", "=", commercial.id), *self._company_domain(company),
            ("parent_state", "=", "posted"), ("account_id.account_type", "=", "asset_receivable"),
        ]
        # Entries posted but dated after today too (Odoo's balance counts them, and so do the open items): the
        # running balance ends on what is open.
        amount_field = "balance" if in_company_currency else "amount_currency"

        def key(currency):
            return company.currency_id if in_company_currency else currency

        # The whole history in one grouped query per side of the period, the period's items one
        # by one: a customer of many years is not read line by line.
        result = {}
        for currency, before in Line._read_group(
                [*domain, ("date", "<", date_from)], ["currency_id"], [f"{amount_field}:sum"]):
            section = result.setdefault(key(currency), {
                "currency": key(currency), "date_from": date_from, "opening": 0.0, "rows": [], "closing": 0.0})
            section["opening"] += before
            section["closing"] += before
        for line in Line.search([*domain, ("date", ">=", date_from)], order="date, move_id, id"):
            section = result.setdefault(key(line.currency_id), {
                "currency": key(line.currency_id), "date_from": date_from, "opening": 0.0, "rows": [],
                "closing": 0.0})
            amount = line[amount_field]
            section["closing"] += amount
            matched = (line.matched_debit_ids.debit_move_id | line.matched_credit_ids.credit_move_id).move_id
            section["rows"].append({
                "date": line.date,
                "name": line.move_id.name,
                "kind": self._statement_kind(line),
                "label": reference(line.move_id),
                "matched": ", ".join(matched.sorted("name").mapped("name")),
                "debit": max(amount, 0.0),
                "credit": max(-amount, 0.0),
                "balance": section["closing"],
            })
        # A currency the account has no more to do with (settled before the period) says nothing.
        return {currency: section for currency, section in result.items()
                if section["rows"] or not currency.is_zero(section["opening"])}

    @api.model
    def _statement_kind(self, line):
        move = line.move_id
        if move.move_type in ("out_invoice", "out_receipt"):
            return self.env._("Invoice")
        if move.move_type == "out_refund":
            return self.env._("Credit note")
        if move.origin_payment_id or move.statement_line_id:
            return self.env._("Payment")
        return self.env._("Entry")

    @api.model
    def _balance_history(self, receivables, in_currency=False):
        """BalanceChange list of an invoice's receivable (or of one instalment's journal item): its
        total, then what each reconciliation (payment, credit note) left, from the reconciliation's date.
        ``in_currency``: in the document's currency (as it was booked in it) instead of the company's."""
        if receivables._name == "account.move":
            receivables = receivables.line_ids
        lines = receivables.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        running = Decimal(str(sum(lines.mapped("amount_currency" if in_currency else "balance"))))
        changes = [BalanceChange(date.min, running)]
        for partial in lines.matched_credit_ids.sorted(lambda p: (p.max_date, p.id)):
            running -= Decimal(str(partial.debit_amount_currency if in_currency else partial.amount))
            changes.append(BalanceChange(partial.max_date, running))
        return changes
