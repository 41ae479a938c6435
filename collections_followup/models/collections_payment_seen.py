"""Payments seen before they are booked: money in the bank, or an online payment, that is not matched with the
customer's invoices yet.

Odoo's documentation tells users to reconcile their bank statements right before launching follow-ups; the run
does not rely on it. Before it reminds, it looks at:

- bank statement lines of the company's hierarchy not reconciled yet (on the suspense account), money in, from
  the customer (its partner) or naming one of its open invoices (a word of the label is the invoice's number or
  payment reference);
- online payment transactions pending, authorized or done whose payment is not posted yet.

The invoices such a payment pays are paused while it is waiting to be matched (no reminder, no fee; the why says
"payment seen on <date>, waiting to be matched"), and an accountant gets a task with the proposed match. Which
invoices a line pays: those its reference names; else the invoice whose open amount equals the line's amount;
else the customer's oldest due first, as far as the amount goes (the last one may be covered only in part: it is
paused too, and what is left of it is chased once the line is matched). A line matched disappears from here (its
invoices are paid or partly paid); a line reversed or deleted too, and follow-up resumes.
"""
import re
from collections import defaultdict
from datetime import date
from typing import NamedTuple

from markupsafe import Markup

from odoo import api, models
from odoo.tools import SQL, format_amount, format_date

SEEN_UNTIL = date.max  # paused until further notice: until the payment is matched (or reversed)
# What separates the words of a statement line's label ("Payment INV/2026/00012, INV/2026/00013 (thanks)"); a word's
# final full stop is dropped too.
LABEL_SEPARATORS = r"[\s,;:()\[\]\"']+"
# A payment reference may be written over a few words ("RF18 5390 0754 7034"): at most this many.
LONGEST_REFERENCE_WORDS = 8


class Seen(NamedTuple):
    """One payment seen: a statement line or a payment transaction, and the invoices it pays."""

    kind: str  # "statement" or "transaction"
    record_id: int
    date: date
    amount: float  # company currency (a statement line) or the transaction's currency
    label: str
    partner_id: int  # the customer (commercial entity)
    move_ids: tuple


def _label_spans(label):
    """{(text, number of words)} of a statement line's label: each word, and each run of up to
    LONGEST_REFERENCE_WORDS words written together, a final full stop dropped, as written and in capitals."""
    words = [word for word in re.split(LABEL_SEPARATORS, label) if word]
    spans = set()
    for first in range(len(words)):
        for size in range(1, min(LONGEST_REFERENCE_WORDS, len(words) - first) + 1):
            text = "".join(words[first:first + size]).rstrip(".")
            if text:
                spans |= {(text, size), (text.upper(), size)}
    return spans


class CollectionsLedger(models.AbstractModel):
    _inherit = "collections.ledger"

    @api.model
    def _payments_seen(self, company):
        """[Seen] of ``company``'s hierarchy: a few queries over the (few) lines not matched yet."""
        companies = self._company_sql(company)
        for model in ("account.bank.statement.line", "account.move", "res.partner"):
            self.env[model].flush_model()
        lines = self.env.execute_query(SQL(
            """
            SELECT st.id, move.date, st.amount, COALESCE(st.payment_ref, ''), partner.commercial_partner_id
              FROM account_bank_statement_line st
              JOIN account_move move ON move.id = st.move_id
         LEFT JOIN res_partner partner ON partner.id = st.partner_id
             WHERE move.state = 'posted' AND st.is_reconciled IS NOT TRUE AND st.amount > 0
               AND st.company_id IN %(companies)s
          ORDER BY st.id
            """, companies=companies,
        ))
        if not lines:
            return self._transactions_seen(companies)
        # The invoices a line may pay: its customer's, and those its label names (a word of it is the number, or a
        # few words in a row the payment reference, its spaces aside), looked up by index from the few lines'
        # words (comparing every line's label with every open invoice took 13 s for 100 lines and 100,000 invoices).
        spans = {st_id: _label_spans(ref) for st_id, _when, _amount, ref, _partner in lines}
        numbers = sorted({text for words in spans.values() for text, size in words if size == 1})
        references = sorted({text for words in spans.values() for text, _size in words})
        partners = sorted({partner_id for *_head, partner_id in lines if partner_id})
        invoices = self.env.execute_query(SQL(
            """
            SELECT move.id, move.name, replace(COALESCE(move.payment_reference, ''), ' ', ''),
                   move.commercial_partner_id, move.amount_residual_signed, COALESCE(move.invoice_date_due, move.date)
              FROM account_move move
             WHERE move.id IN (
                    SELECT id FROM account_move WHERE partner_id IN (
                        SELECT id FROM res_partner WHERE commercial_partner_id = ANY(%(partners)s))
                     UNION
                    SELECT id FROM account_move WHERE name = ANY(%(numbers)s) AND state = 'posted' AND name != '/'
                     UNION
                    SELECT id FROM account_move
                     WHERE replace(payment_reference, ' ', '') = ANY(%(references)s)
                       AND move_type = 'out_invoice' AND payment_reference IS NOT NULL)
               AND move.company_id IN %(companies)s AND move.move_type = 'out_invoice' AND move.state = 'posted'
               AND move.payment_state IN ('not_paid', 'partial')
          ORDER BY COALESCE(move.invoice_date_due, move.date), move.id
            """, partners=partners, numbers=numbers, references=references, companies=companies,
        ))
        # Oldest due first (the query's order), by customer, number and reference.
        by_customer, by_number, by_reference = defaultdict(list), defaultdict(list), defaultdict(list)
        for position, (_move_id, name, reference, customer, _residual, _due) in enumerate(invoices):
            by_customer[customer].append(position)
            by_number[name].append(position)
            if reference:
                by_reference[reference].append(position)
        seen = []
        for st_id, when, amount, ref, partner_id in lines:
            named = {position for text, size in spans[st_id]
                     for position in (*(by_number.get(text, ()) if size == 1 else ()), *by_reference.get(text, ()))}
            candidates = [(invoices[position][0], invoices[position][4], invoices[position][5], position in named,
                           invoices[position][3])
                          for position in sorted(named.union(by_customer.get(partner_id, ())))]
            moves = self._seen_pays(amount, candidates)
            if moves:
                seen.append(Seen("statement", st_id, when, amount, ref, partner_id or candidates[0][4], moves))
        seen += self._transactions_seen(companies)
        return seen

    @api.model
    def _seen_pays(self, amount, candidates):
        """The invoices a payment of ``amount`` pays among ``candidates`` [(move, residual, due, named, customer)],
        oldest due first: those its reference names, else the one of exactly that open amount, else the oldest as
        far as the amount goes."""
        named = tuple(move for move, _residual, _due, is_named, _partner in candidates if is_named)
        if named:
            return named
        exact = [move for move, residual, _due, _named, _partner in candidates if abs(residual - amount) < 0.005]
        if exact:
            return (exact[0],)
        paid, left = [], amount
        for move, residual, _due, _named, _partner in candidates:
            if left <= 0.005:
                break
            paid.append(move)
            left -= residual
        return tuple(paid)

    @api.model
    def _transactions_seen(self, companies):
        """[Seen] of online payments pending, authorized or done whose payment is not posted yet."""
        if "payment.transaction" not in self.env:
            return []
        self.env["payment.transaction"].flush_model()
        rows = self.env.execute_query(SQL(
            """
            SELECT tx.id, tx.create_date::date, tx.amount, tx.reference, partner.commercial_partner_id,
                   ARRAY_AGG(move.id ORDER BY move.id)
              FROM payment_transaction tx
              JOIN account_invoice_transaction_rel rel ON rel.transaction_id = tx.id
              JOIN account_move move ON move.id = rel.invoice_id
              JOIN res_partner partner ON partner.id = move.partner_id
         LEFT JOIN account_payment payment ON payment.id = tx.payment_id
         LEFT JOIN account_move payment_move ON payment_move.id = payment.move_id
             WHERE tx.state IN ('pending', 'authorized', 'done') AND tx.company_id IN %(companies)s
               AND (payment.id IS NULL OR payment_move.state IS DISTINCT FROM 'posted')
               AND move.state = 'posted' AND move.payment_state IN ('not_paid', 'partial')
          GROUP BY tx.id, partner.commercial_partner_id
            """, companies=companies,
        ))
        return [Seen("transaction", tx_id, when, amount, reference, partner_id, tuple(move_ids))
                for tx_id, when, amount, reference, partner_id, move_ids in rows]

    @api.model
    def _seen_pause_rows(self, company, move_ids=None):
        """_pause_rows' rows of the payments seen: (move id, SEEN_UNTIL, "payment", "<date>: <label>")."""
        return [
            (move_id, SEEN_UNTIL, "payment", f"{seen.date}|{seen.label}")
            for seen in self._payments_seen(company) for move_id in seen.move_ids
            if move_ids is None or move_id in move_ids
        ]

    # ------------------------------------------------------------------
    # The accountant's task
    # ------------------------------------------------------------------

    @api.model
    def _ask_to_match_payments_seen(self, company):
        """One task per payment seen (once: a task already made is not made again), for an accountant of the
        company, on the customer, with the proposed match."""
        # sudo: the scheduled run writes the accountants' tasks on the customers.
        Partner = self.env["res.partner"].sudo()
        Move = self.env["account.move"].sudo()
        accountant = self._accountant(company)
        made = 0
        payments = self._payments_seen(company)
        # Once per payment seen: a task marked done (archived by Odoo) without matching is not made again; the
        # invoices stay paused and the why says so. One read of the tasks already made.
        asked = self._task_summaries({seen.partner_id for seen in payments if seen.partner_id}, include_done=True)
        for seen in payments:
            key = f"[{seen.kind} {seen.record_id}]"
            customer = Partner.browse(seen.partner_id)
            if not customer or key in asked.get(customer.id, ""):
                continue
            invoices = Move.browse(seen.move_ids)
            what = (self.env._("bank statement line") if seen.kind == "statement"
                    else self.env._("online payment"))
            note = Markup("<p>%s</p><ul>%s</ul><p>%s</p>") % (
                self.env._("A %(what)s of %(amount)s on %(date)s (%(label)s) is not matched yet. Follow-up of these "
                           "invoices is paused until it is:", what=what,
                           amount=format_amount(self.env, seen.amount, company.currency_id),
                           date=format_date(self.env, seen.date), label=seen.label or "-"),
                Markup("").join(Markup("<li>%s: %s</li>") % (
                    invoice.name, format_amount(self.env, invoice.amount_residual, invoice.currency_id))
                    for invoice in invoices),
                self.env._("Match the payment with these invoices (what it does not cover stays open and is "
                           "followed up again)."),
            )
            customer.activity_schedule(
                "mail.mail_activity_data_todo", user_id=(accountant or customer._collections_collector(company)).id,
                summary=self.env._("Match the payment seen %(key)s", key=key), note=note,
            )
            made += 1
        return made

    @api.model
    def _task_summaries(self, partner_ids, include_done=False):
        """{customer id: the summaries of its tasks, joined} (open ones; done ones too with ``include_done``), one
        query: the run's reviews look a task up by the key in its summary."""
        if not partner_ids:
            return {}
        # sudo: the tasks the scheduled run made on these customers.
        tasks = self.env["mail.activity"].sudo().with_context(active_test=not include_done).search_read(
            [("res_model", "=", "res.partner"), ("res_id", "in", list(partner_ids)), ("summary", "like", "[")],
            ["res_id", "summary"])
        summaries = {}
        for task in tasks:
            summaries[task["res_id"]] = summaries.get(task["res_id"], "") + "\n" + (task["summary"] or "")
        return summaries

    @api.model
    def _accountant(self, company):
        """Who matches payments: an accountant of the company (Odoo's accounting administrators), else nobody."""
        group = self.env.ref("account.group_account_manager")
        return self.env["res.users"].sudo().search([
            ("all_group_ids", "in", group.id), ("company_ids", "in", company.id), ("share", "=", False),
            ("id", "!=", self.env.ref("base.user_root").id),
        ], order="name", limit=1)
