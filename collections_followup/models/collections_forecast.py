"""When each open item will be paid, the 13-week cash forecast and its measured accuracy (engine/forecast.py).

The ledger reader gives the engine every receivable item of a company's invoices of the last two years (and any
older one still open) with what became of it: Odoo's partial reconciliations, each a part paid on a date (money:
a payment, a bank statement line, a cash or bank journal, an exchange difference) or closed without money (a
credit note, a write-off). The forecast is rebuilt each night and when a user opens it a day later; its accuracy
is measured once a month (a scheduled job, once per period like the senders) as of each of the last 12
month-ends, the history read as it stood that day.
"""
import io
import itertools
import logging
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, format_date, split_every

from ..engine import forecast as F
from .collections_dispute import OPEN_STATES

_logger = logging.getLogger(__name__)

HISTORY_DAYS = 730
HISTORY_CHUNK = 2000  # customers whose histories the engine is given at once (collections.forecast._history_chunks)
HISTORY_FETCH = 20000  # rows of the histories fetched at once (collections.forecast._history_stream)
_STREAMS = itertools.count()  # names of the history streams' cursors
SOURCES = [
    ("invoice", "Open Invoices"),
    ("plan", "Plan Instalments"),
    ("promise", "Promises to Pay"),
    ("seen", "Payments Seen"),
    ("dispute", "Disputed"),
]


class CollectionsForecastItem(models.Model):
    """One open receivable (or instalment, or promise) with when it is expected to be paid."""

    _name = "collections.forecast.item"
    _description = "Collections: expected payment of an open item"
    _order = "expected_date, id"
    _rec_name = "move_id"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    move_id = fields.Many2one("account.move", string="Document", readonly=True, index="btree_not_null")
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    segment_id = fields.Many2one("collections.segment", readonly=True)
    source = fields.Selection(SOURCES, required=True, readonly=True)
    amount = fields.Monetary(string="Open", readonly=True)
    due_date = fields.Date(readonly=True)
    expected_date = fields.Date(string="Expected Payment", readonly=True,
                                help="When it is paid, if it is: half of what such a history pays at this age is "
                                     "paid by then. Empty: nothing in the books was paid so late.")
    p30 = fields.Float(string="Paid within 30 Days", readonly=True, aggregator="avg")
    p60 = fields.Float(string="Paid within 60 Days", readonly=True, aggregator="avg")
    p90 = fields.Float(string="Paid within 90 Days", readonly=True, aggregator="avg")
    expected_loss = fields.Monetary(readonly=True,
                                    help="Open amount times the chance it is still unpaid 90 days after it falls "
                                         "due (after today, for an invoice already late). A disputed invoice counts "
                                         "none: its dispute decides what is owed.")


class CollectionsForecastWeek(models.Model):
    """The company's forecast for one week: the band, and what the due dates alone say."""

    _name = "collections.forecast.week"
    _description = "Collections: cash forecast of a week"
    _order = "week"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    week = fields.Date(string="Week of", required=True, readonly=True)
    low = fields.Monetary(string="Low (p10)", readonly=True)
    likely = fields.Monetary(readonly=True)
    high = fields.Monetary(string="High (p90)", readonly=True)
    contractual = fields.Monetary(string="Due Dates Alone", readonly=True)


class CollectionsForecastAccuracy(models.Model):
    """How right the forecast was on the company's own ledger, measured as of each of the last 12 month-ends."""

    _name = "collections.forecast.accuracy"
    _description = "Collections: forecast accuracy"
    _order = "date desc, id desc"
    _rec_name = "date"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    date = fields.Date(string="Measured On", required=True, readonly=True)
    month_ends = fields.Integer(readonly=True)
    items = fields.Integer(string="Items Predicted", readonly=True)
    wape = fields.Float(string="Weekly Cash-in Error", readonly=True)
    wape_due = fields.Float(string="Weekly Error, Due Dates", readonly=True)
    wape_average = fields.Float(string="Weekly Error, Average Delay", readonly=True)
    mae = fields.Float(string="Days Off per Invoice", readonly=True)
    mae_due = fields.Float(string="Days Off, Due Dates", readonly=True)
    mae_average = fields.Float(string="Days Off, Average Delay", readonly=True)
    brier = fields.Float(string="Brier Score (30 days)", readonly=True)
    brier_due = fields.Float(string="Brier Score, Due Dates", readonly=True)
    brier_average = fields.Float(string="Brier Score, Average Delay", readonly=True)
    sentence = fields.Char(readonly=True)
    line_ids = fields.One2many("collections.forecast.accuracy.line", "accuracy_id", readonly=True)


class CollectionsForecastAccuracyLine(models.Model):
    """Predicted and actual cash-in of the 13 weeks after one month-end."""

    _name = "collections.forecast.accuracy.line"
    _description = "Collections: forecast against what was paid"
    _order = "month_end"

    accuracy_id = fields.Many2one("collections.forecast.accuracy", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="accuracy_id.company_id", store=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    month_end = fields.Date(string="Forecast Made On", readonly=True)
    predicted = fields.Monetary(readonly=True)
    actual = fields.Monetary(string="Paid", readonly=True)
    contractual = fields.Monetary(string="Due Dates Alone", readonly=True)


class CollectionsForecast(models.AbstractModel):
    """Reads the ledger for the engine, writes what it predicts."""

    _name = "collections.forecast"
    _description = "Collections: cash forecast"

    # ------------------------------------------------------------------
    # The ledger as the engine reads it
    # ------------------------------------------------------------------

    @api.model
    def _histories(self, company, today, since=None, partner_ids=None):
        """[History] of the receivable items of ``company``'s invoices due since ``since`` (default two years
        before ``today``) or still open, each with its partial reconciliations (one query); ``partner_ids``: of
        these customers (commercial partners) only. The whole ledger's, customer by customer: ``_history_stream``."""
        self._flush_history()
        return self._to_histories(self.env.execute_query(self._history_query(
            company, today, since, order=SQL("line.id"),
            # Through the journal items' own partner (indexed), as the open items' reader does.
            partners=SQL("TRUE") if partner_ids is None else SQL(
                "line.partner_id IN (SELECT id FROM res_partner WHERE commercial_partner_id = ANY(%s))",
                list(partner_ids)))))

    @api.model
    def _history_stream(self, company, today, since=None):
        """Every customer's histories (``_histories``), customer by customer in the order of their ids: (customer
        id, [History]). One query for the whole ledger, read through a PostgreSQL cursor ``HISTORY_FETCH`` rows
        at a time: what is held is one fetch and one customer, and the tables are read once whatever the number of
        customers (a query per chunk of customers read them whole each time: 5 times on the 10,000-customer
        bench book, 50 on 100,000). A stream is read to its end (a stream left half-read is closed with its
        transaction)."""
        self._flush_history()
        cr = self.env.cr
        name = SQL.identifier(f"collections_history_{next(_STREAMS)}")
        # Planned for reading every row (PostgreSQL plans a cursor for its first tenth by default: index lookups
        # line by line, 10 times slower read whole), the setting put back once the cursor is planned.
        cr.execute("SELECT current_setting('cursor_tuple_fraction'), set_config('cursor_tuple_fraction', '1', true)")
        fraction = cr.fetchone()[0]
        cr.execute(SQL("DECLARE %s NO SCROLL CURSOR FOR %s", name, self._history_query(
            company, today, since, order=SQL("partner.commercial_partner_id, line.id"), partners=SQL("TRUE"))))
        cr.execute(SQL("SELECT set_config('cursor_tuple_fraction', %s, true)", fraction))
        customer, rows = None, []
        while True:
            cr.execute(SQL("FETCH FORWARD %s FROM %s", HISTORY_FETCH, name))
            fetched = cr.fetchall()
            for row in fetched:
                if row[1] != customer and rows:
                    yield customer, self._to_histories(rows)
                    rows = []
                customer = row[1]
                rows.append(row)
            if len(fetched) < HISTORY_FETCH:
                break
        if rows:
            yield customer, self._to_histories(rows)
        cr.execute(SQL("CLOSE %s", name))

    def _flush_history(self):
        for model, names in (("account.move.line", ["balance", "date_maturity", "reconciled", "partner_id",
                                                    "parent_state", "account_id", "company_id"]),
                             ("account.move", ["move_type", "invoice_date", "origin_payment_id",
                                               "statement_line_id", "journal_id"]),
                             ("account.partial.reconcile", ["debit_move_id", "credit_move_id", "amount",
                                                            "max_date"])):
            self.env[model].flush_model(names)

    @api.model
    def _history_query(self, company, today, since, order, partners):
        """The histories' rows: one per receivable item and partial reconciliation of it (``_to_histories``)."""
        return SQL(
            """
            SELECT line.id, partner.commercial_partner_id, line.balance, COALESCE(line.date_maturity, line.date),
                   COALESCE(move.invoice_date, move.date), line.move_id, partial.max_date, partial.amount,
                   (credit_move.origin_payment_id IS NOT NULL OR credit_move.statement_line_id IS NOT NULL
                    OR journal.type IN ('bank', 'cash') OR journal.id = company.currency_exchange_journal_id)
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              JOIN res_partner partner ON partner.id = line.partner_id
              JOIN res_company company ON company.id = line.company_id
         LEFT JOIN account_partial_reconcile partial ON partial.debit_move_id = line.id
         LEFT JOIN account_move_line credit ON credit.id = partial.credit_move_id
         LEFT JOIN account_move credit_move ON credit_move.id = credit.move_id
         LEFT JOIN account_journal journal ON journal.id = credit_move.journal_id
             WHERE %(history_line)s AND %(partners)s
          ORDER BY %(order)s
            """,
            history_line=self._history_line(company, since or today - timedelta(days=HISTORY_DAYS)),
            partners=partners, order=order,
        )

    @staticmethod
    def _to_histories(rows):
        """[History] of ``_history_query``'s rows (a line's rows together)."""
        parts = defaultdict(lambda: ([], []))
        heads = {}
        for line_id, partner_id, balance, due, issued, move_id, when, amount, money in rows:
            heads.setdefault(line_id, (partner_id, balance, due, issued, move_id))
            if when is not None:
                parts[line_id][0 if money else 1].append((when, amount))
        return [F.History(partner_id, balance, due, issued, tuple(parts[line_id][0]), tuple(parts[line_id][1]),
                          (line_id, move_id))
                for line_id, (partner_id, balance, due, issued, move_id) in heads.items()]

    @api.model
    def _history_line(self, company, since):
        """SQL condition (aliases ``line``, ``move``) of a receivable item of ``company``'s invoices due since
        ``since`` or still open: what the forecast's history is made of."""
        return SQL(
            """line.company_id IN %(companies)s AND line.parent_state = 'posted' AND line.balance > 0
               AND line.account_id IN (SELECT id FROM account_account WHERE account_type = 'asset_receivable')
               AND move.move_type IN ('out_invoice', 'out_receipt')
               AND (COALESCE(line.date_maturity, line.date) >= %(since)s OR NOT line.reconciled)""",
            companies=self.env["collections.ledger"]._company_sql(company), since=since,
        )

    @api.model
    def _history_customers(self, company, since):
        """Ids of the customers (commercial partners) whose histories ``_histories`` reads."""
        self.env["account.move.line"].flush_model(["date_maturity", "reconciled", "partner_id", "parent_state",
                                                   "account_id", "company_id", "balance"])
        self.env["account.move"].flush_model(["move_type"])
        return [row[0] for row in self.env.execute_query(SQL(
            """
            SELECT DISTINCT partner.commercial_partner_id
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              JOIN res_partner partner ON partner.id = line.partner_id
             WHERE %s
          ORDER BY 1
            """, self._history_line(company, since),
        ))]

    @api.model
    def _history_chunks(self, company, today, since=None, size=HISTORY_CHUNK):
        """The engine's chunked source of the histories: a callable that streams them anew each time it is called
        (``_history_stream``), ``size`` customers to a chunk (what is held is one chunk, whatever the ledger's
        size)."""
        def chunks():
            chunk, count = [], 0
            for _customer, histories in self._history_stream(company, today, since=since):
                chunk += histories
                count += 1
                if count == size:
                    yield chunk
                    chunk, count = [], 0
            if chunk:
                yield chunk
        return chunks

    @api.model
    def _segments(self, company, partner_ids):
        """{commercial partner id: its segment id} in ``company``."""
        # sudo: the customers' segments (scores), read to pool their histories.
        Partner = self.env["res.partner"].sudo().with_company(company)
        segments = {}
        # That field alone, a batch at a time: reading the customers' records whole (the ORM's prefetch) held a
        # book's every customer in memory (100 MB at 100,000).
        for batch in split_every(HISTORY_CHUNK * 5, partner_ids):
            partners = Partner.browse(batch)
            partners.fetch(["collections_segment_id"])
            segments.update((partner.id, partner.collections_segment_id.id or None) for partner in partners)
            partners.invalidate_recordset(["collections_segment_id"])
        return segments

    # ------------------------------------------------------------------
    # The forecast
    # ------------------------------------------------------------------

    @api.model
    def _rebuild(self, company, today):
        """Predict every open item of ``company`` (root: with its branches) and store the items, the customers'
        weekly rows (expected and contractual) and the company's weekly band. A few thousand customers at a time
        (their open items read, predicted and written, then let go): memory stays flat as the book grows."""
        customers = self._history_customers(company, today - timedelta(days=HISTORY_DAYS))
        segments = self._segments(company, customers)
        # The pools from the whole history; each batch's own curves below, from its customers' histories.
        model = F.fit(self._history_chunks(company, today), today, segments, own=False)
        Ledger = self.env["collections.ledger"]
        seen = self._seen_moves(company)
        disputed = self._disputed_moves(company)
        hierarchy = Ledger._company_domain(company)
        # sudo: the company's arrangements, read to place what they bring (the forecast is the company's).
        plans = self.env["collections.payment.plan"].sudo().search([*hierarchy, ("state", "=", "active")])
        promises = self.env["collections.promise"].sudo().search([*hierarchy, ("state", "=", "open")])
        arranged = set(plans.move_ids.ids) | set(promises.move_ids.ids)
        # Arrangements: each instalment or promised payment due on its own date, paid as the customer pays.
        arrangements = defaultdict(list)
        for plan in plans:
            for line in plan.line_ids.filtered(lambda line: line.remaining > 0):
                arrangements[plan.partner_id.commercial_partner_id.id].append(("plan", line.remaining, line.due_date))
        for promise in promises:
            left = promise.amount - promise.amount_paid
            if left > 0:
                arrangements[promise.partner_id.commercial_partner_id.id].append(
                    ("promise", left, promise.promised_date))
        store = _Store(self, company, today)
        ordered = sorted(self.env["collections.run"]._open_partner_ids(company) | set(arrangements))
        # Each batch's own curves from the histories streamed in the same order (customers without an open item
        # passed over).
        stream = self._history_stream(company, today)
        pending = next(stream, None)
        for chunk in split_every(HISTORY_CHUNK, ordered):
            wanted, histories = set(chunk), []
            while pending is not None and pending[0] <= chunk[-1]:
                if pending[0] in wanted:
                    histories += pending[1]
                pending = next(stream, None)
            model.own = F.own_curves(histories, today)
            model.last = (None, None)
            open_items = Ledger._open_items(company, chunk, pauses=False)
            for partner_id in chunk:
                self._predict_customer(store, model, segments, partner_id, open_items.get(partner_id, ()),
                                       arrangements.get(partner_id, ()), arranged, seen, disputed)
            store.flush()
        # The customers paid up after the last one with something open: the stream read to its end closes its
        # cursor (left open, it would hold its sorted rows until the transaction ends).
        for _rest in stream:
            pass
        return store.finish()

    def _predict_customer(self, store, model, segments, partner_id, rows, arrangements, arranged, seen, disputed):
        """Add to ``store`` the predictions of one customer's open items and arrangements."""
        today = store.today

        def predict(amount, due):
            return F.predict(model.curve(partner_id, segments.get(partner_id)), amount, due, today,
                             customer=partner_id)

        # Unapplied credits settle the oldest debts without money: what they cover is neither cash to come nor a
        # loss (the accountant applies them: the credits review).
        credits = -sum(float(item.residual) for item in rows if item.residual < 0 and item.excluded != "exchange")
        for item in sorted(rows, key=lambda item: (item.due_date, item.line_id or 0)):
            amount = float(item.residual)
            if amount <= 0 or item.excluded == "exchange" or item.move_id in arranged:
                continue
            covered = min(credits, amount)
            credits -= covered
            amount -= covered
            if amount <= 0.005:
                continue
            if item.move_id in seen:  # the money is in the bank: this week
                weekly = (amount,) + (0.0,) * (F.WEEKS - 1)
                store.add(partner_id, item.move_id, "seen", amount, item.due_date, F.Prediction(
                    None, partner_id, amount, today, 1.0, 1.0, 1.0, weekly))
            elif item.move_id in disputed:  # not expected until the dispute is settled
                store.add(partner_id, item.move_id, "dispute", amount, item.due_date, F.Prediction(
                    None, partner_id, amount, None, 0.0, 0.0, 0.0, (0.0,) * F.WEEKS))
            else:
                store.add(partner_id, item.move_id, "invoice", amount, item.due_date, predict(amount, item.due_date))
        for source, amount, due in arrangements:
            store.add(partner_id, False, source, amount, due, predict(amount, due))

    @api.model
    def _seen_moves(self, company):
        """Invoices a payment seen in the bank (not matched yet) pays."""
        return {move_id for seen in self.env["collections.ledger"]._payments_seen(company) for move_id in seen.move_ids}

    @api.model
    def _disputed_moves(self, company):
        # sudo: which invoices are disputed (their amounts are the forecast's).
        disputes = self.env["collections.dispute"].sudo().search([
            *self.env["collections.ledger"]._company_domain(company), ("state", "in", OPEN_STATES)])
        return set(disputes.move_ids.ids)

    def _insert(self, model, columns, rows):
        """Add ``rows`` (tuples of ``columns``) to ``model``'s table with PostgreSQL's COPY: on the 10,000-customer
        bench book's 100,000 items 3.3 s, where one INSERT of an array per column took 6.0-8.8 s (a parameter per
        value cost more still). Values are written in COPY's text format (None as \\N, special characters
        escaped); the rows' create_date / write_date are this transaction's time."""
        table = self.env[model]._table
        now = fields.Datetime.to_string(self.env.cr.now())
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_text(value) for value in row))
            buffer.write(f"\t{now}\t{now}\n")
        buffer.seek(0)
        self.env.cr.copy_expert(SQL(
            "COPY %s (%s, create_date, write_date) FROM STDIN", SQL.identifier(table),
            SQL(", ").join(SQL.identifier(name) for name in columns)).code, buffer)

    @api.model
    def _ensure(self, company, today):
        """The company's forecast of ``today`` (its root's: a branch is forecast with it), rebuilt when the stored
        one is of another day; returns the company it is stored for."""
        company = company.root_id
        stored = self.env["ir.config_parameter"].sudo().get_param(f"collections_followup.forecast_date.{company.id}")
        if stored != fields.Date.to_string(today):
            self._rebuild(company, today)
        return company

    @api.model
    def _habit_text(self, days, share):
        """The customer's habit in a sentence: ``days`` its amount-weighted delay after the due date (negative:
        early), ``share`` the percentage paid within 30 days of it. "Pays -3 days late" and "1 days" were read on
        the demo."""
        terms = self.env._("amount-weighted, last two years, recent invoices counting more")
        if days == 0:
            habit = self.env._("Pays on the due date on average (%(terms)s)", terms=terms)
        elif days == 1:
            habit = self.env._("Pays 1 day late on average (%(terms)s)", terms=terms)
        elif days == -1:
            habit = self.env._("Pays 1 day early on average (%(terms)s)", terms=terms)
        elif days > 0:
            habit = self.env._("Pays %(days)s days late on average (%(terms)s)", days=days, terms=terms)
        else:
            habit = self.env._("Pays %(days)s days early on average (%(terms)s)", days=-days, terms=terms)
        # The delay is of what was paid; the share counts what is still open too (read on the bench: "1 day late
        # on average; 28 % ... within 30 days" of a customer with old open invoices).
        return self.env._("%(habit)s on what it paid; %(share)s %% of what it was invoiced was paid within 30 days "
                          "of the due date.", habit=habit, share=share)

    @api.model
    def _customer_text(self, own, items):
        """The customer's paid history in a sentence and its next expected payments (HTML)."""
        lines = []
        if own is not None and own.weight > 0 and own.days:
            days, share = round(own.mean_delay), round(100 * (1 - own.s(30)))
            lines.append(self._habit_text(days, share))
        else:
            lines.append(self.env._("No paid history yet: forecast from the company's other customers."))
        for item in items:
            amount = item.currency_id.format(item.amount)
            if item.expected_date and item.p90 < 0.5:
                # "Expected around <in three days>; 0 % within 30 days" was read on the bench: the date is when it is
                # paid if it is; here it most likely is not.
                lines.append(self.env._(
                    "%(invoice)s (%(amount)s): unlikely to be paid without action (%(p90)s %% within 90 days); if it "
                    "is, around %(date)s.", invoice=item.move_id.name, amount=amount,
                    date=format_date(self.env, item.expected_date), p90=round(100 * item.p90)))
            elif item.expected_date:
                lines.append(self.env._(
                    "%(invoice)s (%(amount)s): expected around %(date)s; %(p30)s %% within 30 days, %(p90)s %% "
                    "within 90.", invoice=item.move_id.name, amount=amount,
                    date=format_date(self.env, item.expected_date), p30=round(100 * item.p30),
                    p90=round(100 * item.p90)))
            else:
                lines.append(self.env._(
                    "%(invoice)s (%(amount)s): not expected: nothing in the books was paid so late.",
                    invoice=item.move_id.name, amount=amount))
        return Markup("<ul class='mb-0'>%s</ul>") % Markup("").join(Markup("<li>%s</li>") % line for line in lines)

    # ------------------------------------------------------------------
    # Accuracy
    # ------------------------------------------------------------------

    @api.model
    def _measure(self, company, today, count=12):
        """Backtest as of each of the last ``count`` month-ends; stores and returns the accuracy record."""
        ends = F.month_ends(today, count)
        since = ends[0] - timedelta(days=HISTORY_DAYS)
        customers = self._history_customers(company, since)
        segments = self._segments(company, customers)
        result = F.backtest(self._history_chunks(company, today, since=since), ends, segments,
                            until=today)
        per_end = defaultdict(lambda: [0.0, 0.0, 0.0])
        for day, _week, predicted, actual, due in result.weekly:
            per_end[day][0] += predicted
            per_end[day][1] += actual
            per_end[day][2] += due
        values = {
            "company_id": company.id, "date": today, "month_ends": len(ends), "items": result.items,
            "sentence": self._sentence(result, len(ends)),
            "line_ids": [(0, 0, {"month_end": day, "predicted": p, "actual": a, "contractual": d})
                         for day, (p, a, d) in sorted(per_end.items())],
        }
        for metric in ("wape", "mae", "brier"):
            scores = getattr(result, metric)
            values.update({metric: scores["model"] or 0.0, f"{metric}_due": scores["due"] or 0.0,
                           f"{metric}_average": scores["average"] or 0.0})
        # sudo: the scheduled job's (or a manager's) measurement of the company's own ledger.
        return self.env["collections.forecast.accuracy"].sudo().create(values)

    @api.model
    def _sentence(self, result, months):
        if not result.wape.get("model") and result.wape.get("model") != 0:
            return self.env._("Not enough history yet to measure the forecast.")
        return self.env._(
            "Last %(months)s months: weekly cash-in off by %(model)s %%, due dates alone off by %(due)s %% "
            "(the customer's average delay: %(average)s %%).",
            months=months, model=round(100 * result.wape["model"]), due=round(100 * (result.wape["due"] or 0)),
            average=round(100 * (result.wape["average"] or 0)))

    @api.model
    def _cron_forecast(self):
        """Nightly: the forecast of every followed company; once a month, its accuracy (once per period: a
        job killed before its commit measures again, a second one finds the claim)."""
        today = fields.Date.context_today(self)
        in_cron = bool(self.env.context.get("cron_id"))
        for company in self.env["collections.policy"]._followed_companies():
            self.with_company(company)._rebuild(company, today)
            if in_cron:
                self.env["ir.cron"]._commit_progress(1)
            # The claim and the measure commit together: a job killed in between measures again.
            if self.env["collections.job.period"]._claim("forecast_accuracy", company, today.replace(day=1)):
                self.with_company(company)._measure(company, today)
                _logger.info("Forecast accuracy of %s measured", company.name)
            if in_cron:
                self.env["ir.cron"]._commit_progress(1)

    @api.model
    def _dashboard(self, company, today):
        """What the dashboard shows: the 13 weeks with their band and the contractual series, and the last
        accuracy measured."""
        company = self._ensure(company, today)
        weeks = self.env["collections.forecast.week"].sudo().search([("company_id", "=", company.id)])
        accuracy = self.env["collections.forecast.accuracy"].sudo().search([("company_id", "=", company.id)],
                                                                          limit=1)
        return {
            "weeks": [{"week": fields.Date.to_string(w.week), "low": w.low, "likely": w.likely, "high": w.high,
                       "contractual": w.contractual} for w in weeks],
            "accuracy": (accuracy and {
                "sentence": accuracy.sentence, "date": fields.Date.to_string(accuracy.date),
                "lines": [{"month_end": fields.Date.to_string(line.month_end), "predicted": line.predicted,
                           "actual": line.actual, "contractual": line.contractual} for line in accuracy.line_ids],
            }) or False,
        }


class ResPartner(models.Model):
    _inherit = "res.partner"

    collections_forecast = fields.Html(
        string="When It Pays", compute="_compute_collections_forecast", sanitize=False,
        groups="collections_followup.group_collections_user,account.group_account_invoice",
        help="The customer's paid history in a sentence, and when its open invoices are expected (Cash Forecast).",
    )

    @api.depends_context("company")
    def _compute_collections_forecast(self):
        company = self.env.company.root_id
        today = fields.Date.context_today(self)
        Forecast = self.env["collections.forecast"].sudo()
        for partner in self:
            commercial = partner.commercial_partner_id
            if not commercial.id:
                partner.collections_forecast = False
                continue
            # sudo: this customer's own ledger and forecast, for a billing user or collector reading it.
            histories = Forecast._histories(company, today, partner_ids=[commercial.id])
            own = F.fit(histories, today).own.get(commercial.id) if histories else None
            items = self.env["collections.forecast.item"].sudo().search(
                [("company_id", "=", company.id), ("partner_id", "=", commercial.id), ("move_id", "!=", False)],
                order="expected_date, id", limit=5)
            partner.collections_forecast = Forecast._customer_text(own, items) if (own or items) else False


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value):
    """``value`` in COPY's text format."""
    if value is None or value is False:
        return "\\N"
    if value is True:
        return "t"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)  # int, float (shortest exact repr), date (ISO)


class _Store:
    """The company's stored forecast, replaced a batch of customers at a time (COPY, no ORM per row: a book has
    hundreds of thousands of items): the items, the customers' weekly rows (expected and contractual) of each batch
    as it is flushed, the company's weekly band at the end."""

    def __init__(self, forecast, company, today):
        self.forecast, self.company, self.today = forecast, company, today
        self.first = F.week_start(today)
        self.band = F.Band()
        self.due_weeks = defaultdict(float)
        self.count = 0
        self._clear()
        cr = forecast.env.cr
        for table in ("collections_forecast_item", "collections_cash_forecast", "collections_forecast_week"):
            cr.execute(SQL("DELETE FROM %s WHERE company_id = %s", SQL.identifier(table), company.id))

    def _clear(self):
        self.items = []
        self.weekly = defaultdict(lambda: [0.0, 0.0])  # (partner, source, week): [expected, contractual]

    def add(self, partner_id, move_id, source, amount, due, prediction):
        self.items.append((partner_id, move_id or None, source, amount, due, prediction))
        self.band.add(prediction)
        for week, value in enumerate(prediction.weekly):
            if value:
                self.weekly[(partner_id, source, week)][0] += value
        week = max((F.week_start(max(due, self.today)) - self.first).days // 7, 0)
        if week < F.WEEKS:
            self.weekly[(partner_id, "contractual", week)][1] += amount
            self.due_weeks[week] += amount

    def flush(self):
        """Write the batch's items and weekly rows (its customers come no more)."""
        if not self.items:
            return
        forecast, company = self.forecast, self.company
        partner_ids = sorted({row[0] for row in self.items})
        partners = forecast.env["res.partner"].sudo().with_company(company).browse(partner_ids)
        # Who collects a customer: the one rule of every screen (the customer's collector, else its policy's).
        collector = {partner_id: found.user_id or None
                     for partner_id, found in partners._collections_collectors(company).items()}
        segment = forecast._segments(company, partner_ids)
        # No create_uid / write_uid: rows the forecast derives from the ledger, made by nobody in particular; each
        # would be one more foreign key checked per row (a fifth of the INSERT's time at 100,000 items).
        forecast._insert("collections.forecast.item", (
            "company_id", "partner_id", "move_id", "user_id", "segment_id", "source", "amount", "due_date",
            "expected_date", "p30", "p60", "p90", "expected_loss"), [
            (company.id, partner_id, move_id, collector.get(partner_id), segment.get(partner_id), source, amount,
             due, prediction.expected, prediction.p30, prediction.p60, prediction.p90,
             0.0 if source == "dispute" else amount * prediction.loss)
            for partner_id, move_id, source, amount, due, prediction in self.items])
        forecast._insert("collections.cash.forecast", (
            "company_id", "partner_id", "user_id", "segment_id", "week", "source", "amount", "contractual"), [
            (company.id, partner_id, collector.get(partner_id), segment.get(partner_id),
             self.first + timedelta(weeks=week), source, expected, due_amount)
            for (partner_id, source, week), (expected, due_amount) in self.weekly.items()])
        self.count += len(self.items)
        self.band.settle()
        self._clear()
        # The batch's customers, read to store them, are not needed again: the ORM's cache would otherwise hold
        # every customer of the book by the end.
        forecast.env.invalidate_all()

    def finish(self):
        """The company's weekly band; returns how many items were predicted."""
        self.flush()
        forecast, company = self.forecast, self.company
        forecast._insert("collections.forecast.week", (
            "company_id", "week", "low", "likely", "high", "contractual"), [
            (company.id, self.first + timedelta(weeks=week), low, likely, high, self.due_weeks[week])
            for week, (low, likely, high) in enumerate(self.band.result())])
        company_param = f"collections_followup.forecast_date.{company.id}"
        forecast.env["ir.config_parameter"].sudo().set_param(company_param, fields.Date.to_string(self.today))
        for model in ("collections.forecast.item", "collections.cash.forecast", "collections.forecast.week"):
            forecast.env[model].invalidate_model()
        return self.count
