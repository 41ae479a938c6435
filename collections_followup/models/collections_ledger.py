"""The one reader of the receivable ledger for everything Collections shows, sends or decides on.

What is open for a customer is defined once, here (``OPEN_LINE``): a posted journal item on a
receivable account, not fully reconciled, with a residual. One item per journal item: an invoice
on an instalment payment term gives one item per open instalment, with its own due date, amount
and follow-up level; a credit note, a payment or any other credit on the receivable not matched
yet is an unapplied credit. The run, the reminder and letter tables, the statement, fees and
interest, the worklist, the aging report, the dashboard, the credit exposure, the self-check and
the portal read through this model.
"""
from collections import defaultdict
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import EXCHANGE_DIFFERENCE, OpenItem
from ..engine.levels import new_tuple

RECEIVABLE_ACCOUNT_IDS = SQL("SELECT id FROM account_account WHERE account_type = 'asset_receivable'")
RECEIVABLE_ACCOUNTS = SQL("(%s)", RECEIVABLE_ACCOUNT_IDS)


def open_line_sql(accounts=RECEIVABLE_ACCOUNTS):
    """An open receivable journal item (alias ``line`` of account_move_line), ``accounts`` the receivable
    accounts for ``IN``: their subquery, or their ids read beforehand (``_open_line_filter``). Written as Odoo's
    partial index of unreconciled items states it (account, partner, ``reconciled IS NOT TRUE``): given the ids,
    PostgreSQL reaches a customer's open items through that index alone, and not among every item of its paid
    history (the run's open items on the 10,000-customer bench book: 0.3 s, against 0.8 s through the
    subquery)."""
    return SQL("line.parent_state = 'posted' AND line.account_id IN %s"
               " AND line.reconciled IS NOT TRUE AND line.amount_residual != 0", accounts)


OPEN_LINE = open_line_sql()


# The root of an open item's company (alias ``line_company`` of res_company): the company that follows
# it up, for its whole hierarchy (branches included), as Odoo's res.partner.credit reads it.
ROOT_COMPANY = SQL("SPLIT_PART(line_company.parent_path, '/', 1)::int")
# In SQL, what the engine decides item by item (engine.levels): a debt followed up (not excluded, not an
# exchange difference) and an unapplied credit (whatever its follow-up flag, not an exchange difference).
#
# An exchange difference (EXCHANGE_ONLY): a foreign-currency item whose residual exists in company currency only, or
# one of a customer's open items in a foreign currency that together owe nothing in it (an invoice and a payment of
# 1,000 EUR left unmatched at two rates: their company-currency difference is what matching them books as an
# exchange difference, not a debt to chase or a credit to offer). Same account, same company hierarchy: what
# Odoo's reconciliation would match. The daily run's reader (_open_items) works the same rule out on the rows it
# reads (cheaper than this subquery per foreign row); the tests compare every screen with the decisions.
EXCHANGE_ONLY = SQL("""(CASE
    WHEN line.currency_id = line.company_currency_id THEN FALSE
    WHEN line.amount_residual_currency = 0 THEN TRUE
    ELSE (SELECT SUM(other.amount_residual_currency)
            FROM account_move_line other
            JOIN res_partner other_partner ON other_partner.id = other.partner_id
            JOIN res_company other_company ON other_company.id = other.company_id
           WHERE other.account_id = line.account_id AND other.currency_id = line.currency_id
             AND other.parent_state = 'posted' AND other.reconciled IS NOT TRUE AND other.amount_residual != 0
             AND other_partner.commercial_partner_id
                 = (SELECT commercial_partner_id FROM res_partner WHERE id = line.partner_id)
             AND SPLIT_PART(other_company.parent_path, '/', 1)
                 = (SELECT SPLIT_PART(parent_path, '/', 1) FROM res_company WHERE id = line.company_id)
         ) = 0
END)""")
CHASED_DEBT = SQL("(line.amount_residual > 0 AND NOT COALESCE(line.no_followup, FALSE) AND NOT %s)", EXCHANGE_ONLY)
UNAPPLIED_CREDIT = SQL("(line.amount_residual < 0 AND NOT %s)", EXCHANGE_ONLY)


def reference(move):
    """The customer's reference of a document, when it says more than its number."""
    return next((ref for ref in (move.ref, move.payment_reference) if ref and ref != move.name), "")


def early_discount(move, today):
    """(amount to pay, last date) when the invoice's payment term still grants
    Odoo's early-payment discount today, else None."""
    # The payment term first: Odoo's check below reads all the invoice's lines before it, and
    # most terms grant no discount (a tenth of a reminder's time on invoices of a few lines).
    if not move.invoice_payment_term_id.early_discount:
        return None
    if not move._is_eligible_for_early_payment_discount(move.currency_id, today):
        return None
    terms = move.line_ids.filtered(lambda line: line.display_type == "payment_term")
    last_date = min(filter(None, terms.mapped("discount_date")), default=None)
    if not last_date:
        return None
    return {"amount": sum(terms.mapped("discount_amount_currency")), "date": last_date}


# What a document row (_rows) reads of an open item and of its document.
ROW_LINE_FIELDS = ["move_id", "date_maturity", "date", "amount_currency", "amount_residual_currency",
                   "amount_residual", "currency_id", "company_currency_id", "no_followup", "name"]
ROW_MOVE_FIELDS = ["move_type", "name", "ref", "payment_reference", "invoice_date", "date", "access_token",
                   "invoice_payment_term_id", "currency_id", "company_id", "partner_id"]


class CollectionsLedger(models.AbstractModel):
    _name = "collections.ledger"
    _description = "Collections: reader of the receivable ledger"

    # ------------------------------------------------------------------
    # SQL: every customer at once (the run, dashboards, reports)
    # ------------------------------------------------------------------

    @api.model
    def _company_domain(self, company, field="company_id"):
        """ORM domain of the journal items (or documents) of ``company``'s hierarchy (no query of its own)."""
        return [(f"{field}.parent_path", "=like", f"{company.root_id.parent_path}%")]

    @api.model
    def _company_sql(self, company):
        """SQL of the ids of ``company``'s hierarchy, for ``x = ANY(...)`` or ``x IN (...)`` (no query of its own)."""
        self.env["res.company"].flush_model(["parent_path"])
        return SQL("(SELECT id FROM res_company WHERE parent_path LIKE %s)", f"{company.root_id.parent_path}%")

    @api.model
    def _open_line_filter(self, company):
        """SQL condition of an open receivable journal item of ``company``'s hierarchy (alias ``line``).
        Flushes what it reads."""
        self.env["account.move.line"].flush_model([
            "amount_residual", "reconciled", "parent_state", "account_id", "partner_id", "company_id",
        ])
        self.env["account.account"].flush_model(["account_type"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        accounts = tuple(row[0] for row in self.env.execute_query(RECEIVABLE_ACCOUNT_IDS))
        return SQL("line.company_id IN %s AND %s", self._company_sql(company),
                   open_line_sql(accounts or SQL("(NULL)")))

    @api.model
    def _open_items(self, company, partner_ids=None, pauses=True):
        """Open receivable items per commercial partner, one query for all.

        Returns {commercial_partner_id: [OpenItem, ...]}; amounts in company currency, one item
        per open receivable journal item, with the level that journal item reached.
        ``pauses``: also read which items plans, promises, settlements and disputes pause (one
        more query; amounts alone do not need it), or those pauses already read ({move_id: date},
        the run reads them once)."""
        where_partner = SQL("TRUE")
        if partner_ids is not None:
            # Through the journal items' own partner (indexed), not a filter after the join.
            where_partner = SQL(
                "line.partner_id IN (SELECT id FROM res_partner WHERE commercial_partner_id = ANY(%s))",
                list(partner_ids),
            )
        open_line = self._open_line_filter(company)
        self.env["account.move.line"].flush_model([
            "no_followup", "date_maturity", "currency_id", "company_currency_id", "amount_residual_currency",
        ])
        self.env["account.move"].flush_model(["collections_deferred_until"])
        # The invoices deferred (few, through their partial index) joined, rather than every item's invoice
        # looked up for its deferral (a third of the query on the bench book).
        rows = self.env.execute_query(SQL(
            """
            SELECT partner.commercial_partner_id,
                   line.move_id,
                   COALESCE(line.date_maturity, line.date),
                   line.amount_residual::text,
                   COALESCE(line.no_followup, FALSE),
                   reached.level_id,
                   reached.reminded_on,
                   deferred.collections_deferred_until,
                   line.id,
                   line.currency_id != line.company_currency_id,
                   line.amount_residual_currency::text,
                   line.account_id,
                   line.currency_id
              FROM account_move_line line
              JOIN res_partner partner ON partner.id = line.partner_id
         LEFT JOIN (SELECT id, collections_deferred_until FROM account_move
                     WHERE collections_deferred_until IS NOT NULL) deferred ON deferred.id = line.move_id
         LEFT JOIN collections_item_level reached ON reached.line_id = line.id
             WHERE %(open_line)s AND %(where_partner)s
          ORDER BY line.id
            """,
            open_line=open_line,
            where_partner=where_partner,
        ))
        if not isinstance(pauses, dict):
            pauses = self._pauses(company) if pauses else {}
        # The delay of each level reached (one read, none when no item has a level yet), rather
        # than a join in the query above: a tenth cheaper on 200,000 invoices (make bench).
        # sudo: configuration, to place each item on its policy's ladder.
        levels = self.env["collections.level"].sudo().browse({row[5] for row in rows if row[5]})
        delays = {level.id: level.delay for level in levels}
        # One OpenItem per row of the whole book (make bench: 200,000): a tight loop. The
        # residual is read as text, exact, into a Decimal (not through Odoo's float).
        # Exchange differences (EXCHANGE_ONLY's rule, worked out here on the rows read rather than by its subquery
        # per foreign row: a fifth of the decision phase on a book with a tenth of its items in another currency):
        # a foreign item with nothing left in its currency, or one of a customer's foreign items (same account and
        # currency) that together owe nothing in it. Every row of a customer is read (the partner filter is by
        # customer, the company's whole hierarchy).
        in_currency = defaultdict(Decimal)
        for partner_id, *_rest, foreign, residual_currency, account_id, currency_id in rows:
            if foreign:
                in_currency[(partner_id, account_id, currency_id)] += Decimal(residual_currency)
        items = defaultdict(list)
        for (partner_id, move_id, due, residual, excluded, level_id, last, deferred, line_id, foreign,
             residual_currency, account_id, currency_id) in rows:
            exchange = foreign and (not Decimal(residual_currency)
                                    or not in_currency[(partner_id, account_id, currency_id)])
            reached = delays.get(level_id)
            paused = pauses.get(move_id)
            if deferred and (paused is None or deferred > paused):
                paused = deferred
            items[partner_id].append(new_tuple(
                OpenItem, (move_id, due, Decimal(residual), reached, last,
                           EXCHANGE_DIFFERENCE if exchange else excluded, paused, line_id)))
        return items

    @api.model
    def _pauses(self, company):
        """{move_id: date} until which invoices under an arrangement are not chased.

        Active payment plans, open disputes and invoices placed with an agency
        or a lawyer pause until further notice (date.max), open promises until the promised date plus grace,
        approved settlements until their deadline. One query over the (small) arrangement tables."""
        pauses = {}
        for move_id, until, _kind, _name in self._pause_rows(company):
            pauses[move_id] = max(until, pauses.get(move_id, until))
        return pauses

    @api.model
    def _pause_rows(self, company, move_ids=None):
        """(move_id, paused until, kind, reference) of every arrangement pausing an invoice of ``company``
        (kind: payment, plan, promise, dispute, case, settlement; a promise has no reference), of ``move_ids`` only
        when given. The one statement of what pauses an invoice: the run reads the dates, the reasons
        (collections.why) the kinds."""
        for model in ("collections.payment.plan", "collections.promise", "collections.settlement",
                      "collections.dispute", "collections.case"):
            self.env[model].flush_model()
        branches = (
            ("plan", "collections_payment_plan", "plan_id", "DATE '9999-12-31'", "src.name", "src.state = 'active'"),
            ("promise", "collections_promise", "promise_id", "src.promised_date + src.grace_days", "''",
             "src.state = 'open'"),
            ("dispute", "collections_dispute", "dispute_id", "DATE '9999-12-31'", "src.name",
             "src.state IN ('open', 'review')"),
            ("case", "collections_case", "case_id", "DATE '9999-12-31'", "src.name", "src.state = 'open'"),
            ("settlement", "collections_settlement", "settlement_id", "src.deadline", "src.name",
             "src.state = 'approved'"),
        )
        moves = SQL("TRUE") if move_ids is None else SQL("rel.move_id = ANY(%s)", sorted(move_ids))
        # The payments seen in the bank or online, not matched yet (collections_payment_seen), then the arrangements.
        return self._seen_pause_rows(company, move_ids) + self.env.execute_query(SQL(" UNION ALL ").join(
            SQL(
                "SELECT rel.move_id, %(until)s, %(kind)s, %(name)s FROM %(rel)s rel "
                "JOIN %(table)s src ON src.id = rel.%(key)s WHERE %(state)s AND src.company_id = %(company)s "
                "AND %(moves)s",
                until=SQL(until), kind=kind, name=SQL(name), rel=SQL.identifier(f"{table}_account_move_rel"),
                table=SQL.identifier(table), key=SQL.identifier(key), state=SQL(state), company=company.id,
                moves=moves,
            )
            for kind, table, key, until, name, state in branches
        ))

    # ------------------------------------------------------------------
    # One customer, as it reads it (reminders, letters, statement, portal)
    # ------------------------------------------------------------------

    @api.model
    def _journal_items(self, partners, company):
        """The open receivable journal items (account.move.line, sudo) of the customers ``partners``
        (their commercial entities), oldest due first.

        The same condition as OPEN_LINE, through the ORM: the customers' own records, for their own
        reminders, letters, statements or portal pages (a collector, a report, or the customer itself)."""
        # sudo: the customers' own open items, shown to them or to the users who follow them up.
        return self.env["account.move.line"].sudo().search([
            ("partner_id.commercial_partner_id", "in", partners.commercial_partner_id.ids),
            *self._company_domain(company),
            ("parent_state", "=", "posted"), ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False), ("amount_residual", "!=", 0),
        ], order="date_maturity, date, id")

    @api.model
    def _rows(self, partner, company, today=None):
        """Every open item of the customer as a row the documents print: dicts, oldest due first.

        Keys: move, line (journal item), name ("INV/1, instalment 1 of 2" for an instalment),
        reference, date, due, days_late (never negative), total and residual (document currency,
        negative for a credit), currency, company_residual (company currency), excluded (Odoo's
        no_followup), exchange (a residual in company currency only: an exchange difference),
        credit (an unapplied credit), url (the invoice's portal page), discount (early-payment
        discount still granted)."""
        return self._rows_many(partner, company, today)[partner.commercial_partner_id.id]

    @api.model
    def _rows_many(self, partners, company, today=None):
        """{commercial partner id: its _rows} for many customers, in the same few queries as one:
        the open items, their documents, the documents' receivable items (a reminder batch reads
        this once for all its customers)."""
        today = today or fields.Date.context_today(self)
        items = self._journal_items(partners, company)
        # What the rows print, read in a few queries (not every column of the documents and their lines).
        items.fetch(ROW_LINE_FIELDS)
        items.partner_id.fetch(["commercial_partner_id"])
        moves = items.move_id
        moves.fetch(ROW_MOVE_FIELDS)
        invoices = moves.filtered(lambda move: move.is_invoice(include_receipts=True))
        invoices._collections_ensure_access_tokens()  # the rows link to each invoice's portal page
        receivables = defaultdict(list)  # the move's receivable items, paid ones too, for "instalment n of N"
        # sudo: the receivable items of the customers' own documents (as _journal_items).
        for line in self.env["account.move.line"].sudo().search_fetch([
            ("move_id", "in", moves.ids), ("account_id.account_type", "=", "asset_receivable"),
        ], ["move_id", "date_maturity", "date"]):
            receivables[line.move_id.id].append(line)
        rows = {partner_id: [] for partner_id in partners.commercial_partner_id.ids}
        exchange_only = items._collections_exchange_only()
        for line in items:
            move = line.move_id
            siblings = sorted(receivables[move.id], key=lambda item: (item.date_maturity or item.date, item.id))
            due = line.date_maturity or line.date
            credit = line.amount_residual < 0
            name = move.name
            if len(siblings) > 1 and not credit:
                name = self.env._("%(invoice)s, instalment %(number)s of %(count)s", invoice=move.name,
                                  number=siblings.index(line) + 1, count=len(siblings))
            is_invoice = move in invoices
            rows[line.partner_id.commercial_partner_id.id].append({
                "move": move,
                "line": line,
                "name": name,
                "reference": reference(move) if is_invoice else (move.ref or line.name or ""),
                "date": move.invoice_date or move.date,
                "due": False if credit else due,
                "days_late": 0 if credit else max((today - due).days, 0),
                "total": line.amount_currency,
                "residual": line.amount_residual_currency,
                "currency": line.currency_id,
                "company_residual": line.amount_residual,
                "excluded": line.no_followup,
                "exchange": line.id in exchange_only,
                "credit": credit,
                "url": move.get_portal_url() if is_invoice and not credit else False,
                "discount": early_discount(move, today) if is_invoice and not credit and len(siblings) == 1 else None,
            })
        return rows

    @api.model
    def _reminder_rows(self, partner, company, move_ids=None, until=None, items=None):
        """What a reminder, a letter or the portal lists: the open debts (one row per open instalment,
        document currency), then the unapplied credits (one row per document, negative), each
        oldest first. Debts excluded from follow-up are left out (a credit is a credit whatever its
        flag), and so are exchange differences (a residual in company currency only).

        ``move_ids``: only the debts of these documents; ``items``: only these (move id, due date)
        (the items a decision lists); else ``until``: only what falls due by then (None: all)."""
        return self._reminder_rows_many(partner, company, {
            partner.commercial_partner_id.id: {"move_ids": move_ids, "until": until, "items": items},
        })[partner.commercial_partner_id.id]

    @api.model
    def _reminder_rows_many(self, partners, company, which):
        """{commercial partner id: its _reminder_rows} for many customers at once; ``which``: {commercial
        partner id: {"move_ids", "until", "items"}} (_reminder_rows' filters; a customer not in it: all)."""
        rows = self._rows_many(partners, company, fields.Date.context_today(self))
        return {partner_id: self._reminder_rows_of(partner_rows, **which.get(partner_id, {}))
                for partner_id, partner_rows in rows.items()}

    @api.model
    def _reminder_rows_of(self, rows, move_ids=None, until=None, items=None):
        debts, credits = [], {}
        for row in rows:
            if row["exchange"] or (row["excluded"] and not row["credit"]):
                continue
            if row["credit"]:
                credit = credits.get(row["move"])
                if credit:  # one row per credit document (a payment's items are summed)
                    for key in ("total", "residual", "company_residual"):
                        credit[key] += row[key]
                else:
                    credits[row["move"]] = dict(row)
                continue
            due = row["due"]
            if move_ids is not None and row["move"].id not in move_ids:
                continue
            if items is not None and (row["move"].id, due) not in items:
                continue
            if items is None and until and due > until:
                continue
            debts.append(row)
        debts.sort(key=lambda row: (row["due"], row["name"]))
        credit_rows = sorted(
            (row for row in credits.values() if not row["currency"].is_zero(row["residual"]) and row["residual"] < 0),
            key=lambda row: (row["date"], row["move"].id),
        )
        return debts + credit_rows

    @api.model
    def _lines_filter(self, level, listed=None):
        """{"items": ...} or {"until": ...} for _reminder_rows: the decision's ``listed`` items
        ((move id, days late) each) when given, else the level's window."""
        today = fields.Date.context_today(self)
        if listed:
            return {"items": {(move_id, fields.Date.subtract(today, days=late)) for move_id, late in listed}}
        return {"until": self._lines_until(level)}

    @api.model
    def _lines_until(self, level):
        """Last due date a reminder of ``level`` lists: what is late for a late level, what falls
        due within the courtesy delay for a courtesy level (the engine's own listing rule)."""
        if not level:
            return None
        return fields.Date.subtract(fields.Date.context_today(self), days=min(level.delay, 1))

    @api.model
    def _totals(self, rows):
        """Totals by currency of reminder rows (debts and unapplied credits):
        [(currency, net to pay, overdue, credits)]; credits are negative and count in the net."""
        totals = {}
        for row in rows:
            due, overdue, credits = totals.get(row["currency"], (0.0, 0.0, 0.0))
            credit = row["residual"] if row.get("credit") else 0.0
            totals[row["currency"]] = (
                due + row["residual"],
                overdue + (row["residual"] if row["days_late"] > 0 else 0.0),
                credits + credit,
            )
        return [(currency, due, overdue, credits) for currency, (due, overdue, credits) in totals.items()]

    # ------------------------------------------------------------------
    # The one writer of follow-up levels
    # ------------------------------------------------------------------

    @api.model
    def _set_levels(self, levels, reminder_count=0):
        """Record follow-up levels on receivable journal items: ``levels`` {line id: (level id or
        None, last reminder date or None)}. Each invoice then shows the highest level among its
        items (by delay), its last reminder date, and its reminder count moved by
        ``reminder_count`` (1 for a reminder sent, -1 for one undone, 0 for a reset).

        In the addon's own narrow tables (collections_item_level, collections_invoice_level: see
        there why), upserted in SQL: two statements for any number of items, the accounting rows
        untouched. The only place that writes them."""
        if not levels:
            return
        values = SQL(", ").join(
            SQL("(%s::int, %s::int, %s::date)", line_id, level_id or None, when or None)
            for line_id, (level_id, when) in levels.items()
        )
        # Only journal items that exist (a line deleted meanwhile is skipped, as the UPDATE of old skipped it).
        move_ids = [row[0] for row in self.env.execute_query(SQL(
            """
            INSERT INTO collections_item_level (line_id, move_id, company_id, level_id, reminded_on)
                 SELECT new.id, line.move_id, line.company_id, new.level_id, new.reminded
                   FROM (VALUES %s) AS new(id, level_id, reminded)
                   JOIN account_move_line line ON line.id = new.id
               ORDER BY new.id
            ON CONFLICT (line_id) DO UPDATE
                    SET level_id = EXCLUDED.level_id, reminded_on = EXCLUDED.reminded_on
              RETURNING move_id
            """,
            values,
        ))]
        self.env.execute_query(SQL(
            """
            INSERT INTO collections_invoice_level AS summary
                        (move_id, company_id, level_id, reminded_on, reminder_count)
                 SELECT move.id, move.company_id, top.level_id, top.reminded, GREATEST(%(count)s, 0)
                   FROM (
                         SELECT item.move_id,
                                (ARRAY_AGG(item.level_id ORDER BY level.delay DESC)
                                   FILTER (WHERE item.level_id IS NOT NULL))[1] AS level_id,
                                MAX(item.reminded_on) AS reminded
                           FROM collections_item_level item
                      LEFT JOIN collections_level level ON level.id = item.level_id
                          WHERE item.move_id = ANY(%(moves)s)
                       GROUP BY item.move_id
                        ) top
                   JOIN account_move move ON move.id = top.move_id
               ORDER BY move.id
            ON CONFLICT (move_id) DO UPDATE
                    SET level_id = EXCLUDED.level_id,
                        reminded_on = EXCLUDED.reminded_on,
                        reminder_count = GREATEST(summary.reminder_count + %(count)s, 0)
            """,
            count=reminder_count, moves=sorted(set(move_ids)),
        ))
        self.env["account.move.line"].invalidate_model(["collections_level_id", "collections_last_reminder_date"])
        self.env["account.move"].invalidate_model([
            "collections_level_id", "collections_last_reminder_date", "collections_reminder_count"])
        for model in ("collections.item.level", "collections.invoice.level"):
            self.env[model].invalidate_model()

    @api.model
    def _open_lines_of(self, moves):
        """The open receivable journal items of these documents (sudo), for the level writer's callers."""
        # sudo: bookkeeping of the follow-up on the documents the caller acts on.
        return moves.sudo().line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
            and line.amount_residual and line.parent_state == "posted")
