"""The parts of `make bench` that run inside Odoo (`odoo-bin shell`), driven by tools/bench.py.

Each function prints one line "BENCH {json}" with what it measured.

The book is built with SQL from one invoice made by Odoo's ORM: its journal entry and
its two journal items (receivable, income) are copied N times with their amounts, dates,
customer and currency changed, in a journal of their own (BNCH). Everything else is
copied as Odoo wrote it, so the entries are what Odoo would have posted; `check_book`
then asks Odoo's own views of the ledger (invoice analysis, the partners' receivable,
the move's computed amounts) whether they agree.
"""
import json
import os
import resource
import time
from datetime import datetime, timedelta, timezone
from datetime import time as day_time
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tools import SQL

from odoo.addons.collections_followup.engine import Ladder
from odoo.addons.collections_followup.engine.backtest import replay

BIG_CUSTOMER_INVOICES = 500
FOREIGN_SHARE = 0.10
FOREIGN_RATE = 0.92  # units of the foreign currency per unit of the company's
# Money in the bank not matched yet on the morning of the run (collections_payment_seen): one customer in a hundred
# (at least 20), a third from the customer for exactly an invoice, a third without a customer naming an invoice for
# half of it, a third from the customer under another reference.
PAYMENTS_SEEN_SHARE = 0.01


def emit(name, **values):
    print("BENCH " + json.dumps({"step": name, **values}, default=str), flush=True)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _columns(env, table):
    return [row[0] for row in env.execute_query(SQL(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name != 'id' "
        "ORDER BY ordinal_position", table,
    ))]


def _copy_sql(env, table, overrides, source_alias):
    """(column list, select list) copying ``table``'s columns from ``source_alias``, some overridden."""
    cols = _columns(env, table)
    select = [overrides.get(col, f"{source_alias}.{col}") for col in cols]
    return ", ".join(f'"{c}"' for c in cols), ", ".join(select)


def generate(env, customers, invoices, seed, paid_invoices=None, open_by_behaviour=False):
    """The book: ``customers`` customers, ``invoices`` open invoices, and ``paid_invoices`` (as many as the open
    ones by default) paid in the two years before today, each customer paying by its behaviour (_paid_history).

    With ``open_by_behaviour``, the book is one world: the open invoices are those their customer's behaviour left
    unpaid today (drawn, then kept only when their payment would fall today or later: an on-time payer has few,
    an erratic one many and older), and the paid history holds only what that behaviour paid before today (no
    payment moved to yesterday). The forecast's backtest measures its accuracy on such a book; the default book
    (open invoices due from 30 days ahead to 210 days late whoever the customer, every customer due) is the daily
    run's."""
    started = time.time()
    company = env.company
    Move = env["account.move"]
    sales = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    if not sales:
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        sales = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    journal = env["account.journal"].create({
        "name": "Benchmark invoices", "code": "BNCH", "type": "sale", "company_id": company.id,
        "default_account_id": sales.default_account_id.id,
    })
    foreign = env.ref("base.EUR") if company.currency_id != env.ref("base.EUR") else env.ref("base.GBP")
    foreign.active = True
    env["res.currency.rate"].create({
        "currency_id": foreign.id, "rate": FOREIGN_RATE, "name": "2000-01-01", "company_id": company.id,
    })
    template_partner = env["res.partner"].create({
        "name": "Benchmark template customer", "is_company": True, "email": "template@bench.example.com",
    })
    template = Move.create({
        "move_type": "out_invoice", "partner_id": template_partner.id, "journal_id": journal.id,
        "invoice_date": fields.Date.today() - timedelta(days=60),
        "invoice_line_ids": [(0, 0, {"name": "Services", "quantity": 1, "price_unit": 100.0, "tax_ids": [(6, 0, [])]})],
    })
    template.action_post()
    env.flush_all()
    cr = env.cr
    # The customers.
    cols, select = _copy_sql(env, "res_partner", {
        "name": "'Customer ' || lpad(i::text, 6, '0')",
        "complete_name": "'Customer ' || lpad(i::text, 6, '0')",
        "email": "'ar' || i || '@bench.example.com'",
        "email_normalized": "'ar' || i || '@bench.example.com'",
        "ref": "'B' || i",
        "commercial_partner_id": "NULL",
        "create_date": "now() at time zone 'UTC'",
        "write_date": "now() at time zone 'UTC'",
    }, "t")
    cr.execute(f"""
        CREATE TEMP TABLE bench_partner AS
        WITH ins AS (
            INSERT INTO res_partner ({cols})
            SELECT {select} FROM res_partner t, generate_series(1, %s) i WHERE t.id = %s
            RETURNING id
        ) SELECT id, row_number() OVER (ORDER BY id) AS n FROM ins
    """, (customers, template_partner.id))
    cr.execute("UPDATE res_partner SET commercial_partner_id = id WHERE commercial_partner_id IS NULL")
    # What each invoice is: customer 1 has 500 invoices, customer 2 exactly one, the rest are spread
    # at random over the others; due from 30 days ahead to 210 days late; 10 % in a foreign currency.
    cr.execute("SELECT setseed(%s)", (seed / 2**31,))
    if open_by_behaviour:
        _open_by_behaviour(env, customers, invoices)
    else:
        cr.execute("""
            CREATE TEMP TABLE bench_inv AS
            SELECT i,
                   CASE WHEN i <= %(big)s THEN 1 WHEN i = %(big)s + 1 THEN 2
                        ELSE 3 + floor(random() * (%(customers)s - 2))::int END AS n,
                   round((50 + random() * 4950)::numeric, 2) AS amount,
                   (CURRENT_DATE + 30 - floor(random() * 240)::int) AS due,
                   random() < %(foreign_share)s AS is_foreign
              FROM generate_series(1, %(invoices)s) i
        """, {"big": BIG_CUSTOMER_INVOICES, "customers": customers, "invoices": invoices,
              "foreign_share": FOREIGN_SHARE})
    cr.execute("""
        ALTER TABLE bench_inv ADD COLUMN partner_id int, ADD COLUMN currency_id int, ADD COLUMN comp numeric;
        UPDATE bench_inv b SET partner_id = p.id FROM bench_partner p WHERE p.n = b.n;
        UPDATE bench_inv SET currency_id = CASE WHEN is_foreign THEN %(foreign)s ELSE %(company_currency)s END,
                             comp = CASE WHEN is_foreign THEN round(amount / %(rate)s, 2) ELSE amount END;
    """, {"foreign": foreign.id, "company_currency": company.currency_id.id, "rate": FOREIGN_RATE})
    # The journal entries.
    cols, select = _copy_sql(env, "account_move", {
        "name": "'BNCH/' || lpad(b.i::text, 7, '0')",
        "sequence_prefix": "'BNCH/'",
        "sequence_number": "b.i",
        "payment_reference": "'BNCH/' || lpad(b.i::text, 7, '0')",
        "partner_id": "b.partner_id",
        "commercial_partner_id": "b.partner_id",
        "partner_shipping_id": "b.partner_id",
        "invoice_partner_display_name": "p.name",
        "currency_id": "b.currency_id",
        "date": "b.due - 30",
        "invoice_date": "b.due - 30",
        "invoice_date_due": "b.due",
        "amount_untaxed": "b.amount", "amount_total": "b.amount", "amount_residual": "b.amount",
        "amount_untaxed_in_currency_signed": "b.amount", "amount_total_in_currency_signed": "b.amount",
        "amount_untaxed_signed": "b.comp", "amount_total_signed": "b.comp", "amount_residual_signed": "b.comp",
        "amount_tax": "0", "amount_tax_signed": "0",
        "invoice_currency_rate": f"CASE WHEN b.is_foreign THEN {FOREIGN_RATE} ELSE 1 END",
        "access_token": "NULL",
        "create_date": "now() at time zone 'UTC'",
        "write_date": "now() at time zone 'UTC'",
    }, "t")
    cr.execute(f"""
        INSERT INTO account_move ({cols})
        SELECT {select} FROM bench_inv b JOIN res_partner p ON p.id = b.partner_id, account_move t
         WHERE t.id = %s
    """, (template.id,))
    common = {
        "move_id": "m.id", "move_name": "m.name", "partner_id": "m.partner_id", "currency_id": "m.currency_id",
        "date": "m.date", "invoice_date": "m.invoice_date",
        "create_date": "now() at time zone 'UTC'", "write_date": "now() at time zone 'UTC'",
    }
    receivable = {
        **common, "date_maturity": "m.invoice_date_due",
        "balance": "b.comp", "debit": "b.comp", "credit": "0", "amount_currency": "b.amount",
        "amount_residual": "b.comp", "amount_residual_currency": "b.amount",
        "price_unit": "-b.amount", "price_subtotal": "-b.amount", "price_total": "-b.amount",
        "reconciled": "false", "matching_number": "NULL", "full_reconcile_id": "NULL",
    }
    income = {
        **common, "balance": "-b.comp", "debit": "0", "credit": "b.comp", "amount_currency": "-b.amount",
        "price_unit": "b.amount", "price_subtotal": "b.amount", "price_total": "b.amount",
    }
    for display_type, overrides in (("payment_term", receivable), ("product", income)):
        cols, select = _copy_sql(env, "account_move_line", overrides, "t")
        cr.execute(f"""
            INSERT INTO account_move_line ({cols})
            SELECT {select}
              FROM account_move m JOIN bench_inv b ON b.i = m.sequence_number,
                   account_move_line t
             WHERE m.journal_id = %s AND m.id != %s AND t.move_id = %s AND t.display_type = %s
        """, (journal.id, template.id, template.id, display_type))
    paid = _paid_history(env, template, paid_invoices if paid_invoices is not None else invoices,
                         by_behaviour=open_by_behaviour)
    # The template invoice itself is not part of the book.
    template.button_draft()
    template.unlink()
    cr.execute("ANALYZE res_partner; ANALYZE account_move; ANALYZE account_move_line; "
               "ANALYZE account_partial_reconcile;")
    env.invalidate_all()
    seen = _payments_seen(env, journal, max(20, int(customers * PAYMENTS_SEEN_SHARE)))
    big = env["res.partner"].search([("name", "=", "Customer 000001")])
    single = env["res.partner"].search([("name", "=", "Customer 000002")])
    env["ir.config_parameter"].set_param("collections_followup.bench", json.dumps({
        "customers": customers, "invoices": invoices, "seed": seed, "journal_id": journal.id, **paid,
        "open_by_behaviour": open_by_behaviour,
        "big_partner_id": big.id, "single_partner_id": single.id, "payments_seen": seen,
    }))
    # Attaching invoice PDFs is wkhtmltopdf's time (measured apart): the run benchmark sends without them.
    env["collections.level"].search([]).attach_invoices = False
    env.cr.commit()
    emit("generate", customers=customers, invoices=invoices, payments_seen=seen, paid_invoices=paid["paid_invoices"],
         payments=paid["payments"], seconds=round(time.time() - started, 1))


# How each customer pays (customer number % 6), in days after the due date: on time, habitually late, erratic,
# getting worse over the two years, seasonal (late on invoices due in July, August and December), and partial
# payers (half 5 to 14 days late, the rest 30 days after). SQL expressions over bench_paid's columns.
PAYING = """
CASE n %% 6
  WHEN 0 THEN floor(random() * 6)::int - 3
  WHEN 1 THEN 15 + floor(random() * 20)::int
  WHEN 2 THEN floor(random() * 120)::int - 5
  WHEN 3 THEN floor((1 - (CURRENT_DATE - due) / 730.0) * 60 + random() * 10)::int
  WHEN 4 THEN CASE WHEN extract(month FROM due) IN (7, 8, 12) THEN 35 + floor(random() * 15)::int
                   ELSE floor(random() * 8)::int END
  ELSE 5 + floor(random() * 10)::int
END
"""


# Whether an invoice due on ``due`` and paid ``late`` days after it (the partial payers' second half 30 days later)
# is still unpaid today.
UNPAID_TODAY = "due + late + CASE WHEN n %% 6 = 5 THEN 30 ELSE 0 END >= CURRENT_DATE"
# Invoices drawn for each open one asked (generate(open_by_behaviour=True)): about 12 are needed.
FLOW_DRAWN = 20


def _open_by_behaviour(env, customers, invoices):
    """bench_inv for ``generate(open_by_behaviour=True)``, and the flow the paid history is taken from: invoices
    spread at random over every customer, due from 730 days ago to 30 days ahead, each with a delay drawn by its
    customer's behaviour (PAYING), in the order drawn, until ``invoices`` of them are unpaid today. Those are the
    open invoices; the others of the same flow, paid before today, are the paid history (_paid_history). The
    invoices come in at one rate over the two years, open or paid: a customer's open invoices are what its
    behaviour leaves unpaid (an on-time payer's, due within days; an erratic one's, up to four months late), and
    the paid history is how it paid the rest. About one invoice in twelve of the flow is still open. (A partial
    payer's invoice whose first half is paid and second is not is left open whole.)"""
    cr = env.cr
    cr.execute(f"""
        CREATE TEMP TABLE bench_drawn AS
        SELECT i, 1 + floor(random() * %(customers)s)::int AS n,
               round((50 + random() * 4950)::numeric, 2) AS amount,
               (CURRENT_DATE + 30 - floor(random() * 760)::int) AS due,
               random() < %(foreign_share)s AS is_foreign
          FROM generate_series(1, %(drawn)s) i;
        ALTER TABLE bench_drawn ADD COLUMN late int, ADD COLUMN flow boolean;
        UPDATE bench_drawn SET late = {PAYING};
        UPDATE bench_drawn SET flow = i <= (SELECT max(i) FROM (
            SELECT i FROM bench_drawn WHERE {UNPAID_TODAY} ORDER BY i LIMIT %(invoices)s) kept);
        CREATE TEMP TABLE bench_inv AS
        SELECT row_number() OVER (ORDER BY i)::int AS i, n, amount, due, is_foreign
          FROM bench_drawn WHERE flow AND {UNPAID_TODAY};
    """, {"customers": customers, "drawn": FLOW_DRAWN * invoices, "invoices": invoices,
          "foreign_share": FOREIGN_SHARE})
    (made,), = env.execute_query(SQL("SELECT count(*) FROM bench_inv"))
    if made < invoices:
        raise ValueError(f"{invoices} open invoices asked, {made} left unpaid by {FLOW_DRAWN * invoices} drawn")


def _paid_history(env, template, count, by_behaviour=False):
    """``count`` invoices due in the two years before today and paid in full, as Odoo books them: the invoice
    (a copy of ``template``, in a journal of its own, BNCP), one payment entry in the bank journal (two for the
    partial payers: half, then the rest 30 days later) whose receivable line is matched with the invoice's by
    a partial reconciliation dated the payment's day, and the full reconciliation that closes both. Spread at
    random over the customers of bench_partner but the first two (the credit check's customers with 500 invoices
    and with one), each paying by its behaviour (PAYING); a payment that would fall after yesterday is made
    yesterday. In company currency.

    ``by_behaviour``: ``count`` is not used: the paid history is what the flow of _open_by_behaviour paid before
    today (all its customers, the first two included)."""
    company = env.company
    cr = env.cr
    if not count:
        return {"paid_invoices": 0, "payments": 0}
    sales = template.journal_id
    journal = env["account.journal"].create({
        "name": "Benchmark paid invoices", "code": "BNCP", "type": "sale", "company_id": company.id,
        "default_account_id": sales.default_account_id.id,
    })
    bank = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
    receivable = template.line_ids.filtered(lambda line: line.display_type == "payment_term").account_id
    # A payment entry made by Odoo, copied for every payment as the invoice is for every invoice.
    payment = env["account.move"].create({
        "move_type": "entry", "journal_id": bank.id, "partner_id": template.partner_id.id,
        "date": fields.Date.today() - timedelta(days=1),
        "line_ids": [
            (0, 0, {"account_id": bank.default_account_id.id, "debit": 100.0, "partner_id": template.partner_id.id}),
            (0, 0, {"account_id": receivable.id, "credit": 100.0, "partner_id": template.partner_id.id}),
        ],
    })
    payment.action_post()
    env.flush_all()
    # What Odoo left open of the bank line (nothing on a bank account that is not reconcilable), copied as such.
    bank_residual = "y.amount" if payment.line_ids.filtered(
        lambda line: line.account_id == bank.default_account_id).amount_residual else "0"
    (customers,), = env.execute_query(SQL("SELECT count(*) FROM bench_partner"))
    if by_behaviour:
        drawn = f"SELECT i, n, amount, due, late FROM bench_drawn WHERE flow AND NOT ({UNPAID_TODAY})"
    else:
        cr.execute(f"""
            CREATE TEMP TABLE bench_paid_drawn AS
            SELECT i, 3 + floor(random() * (%(customers)s - 2))::int AS n,
                   round((50 + random() * 4950)::numeric, 2) AS amount,
                   (CURRENT_DATE - 30 - floor(random() * 700)::int) AS due
              FROM generate_series(1, %(count)s) i;
            ALTER TABLE bench_paid_drawn ADD COLUMN late int;
            UPDATE bench_paid_drawn SET late = {PAYING};
        """, {"customers": customers, "count": count})
        drawn = "SELECT i, n, amount, due, late FROM bench_paid_drawn"
    cr.execute(f"""
        CREATE TEMP TABLE bench_paid AS
        SELECT row_number() OVER (ORDER BY d.i)::int AS i, d.n, d.amount, d.due, d.late, p.id AS partner_id,
               NULL::int AS full_id
          FROM ({drawn}) d JOIN bench_partner p ON p.n = d.n;
        CREATE TEMP TABLE bench_pay AS
        SELECT row_number() OVER (ORDER BY i, part) AS j, i, partner_id, part,
               CASE WHEN n %% 6 != 5 THEN amount WHEN part = 1 THEN round(amount / 2, 2)
                    ELSE amount - round(amount / 2, 2) END AS amount,
               LEAST(due + late + 30 * (part - 1), CURRENT_DATE - 1) AS paid_on
          FROM bench_paid, generate_series(1, 2) part
         WHERE part = 1 OR n %% 6 = 5;
        CREATE INDEX ON bench_paid (i);
        CREATE INDEX ON bench_pay (j);
        ANALYZE bench_paid;
        ANALYZE bench_pay;
    """, {})
    (count,), = env.execute_query(SQL("SELECT count(*) FROM bench_paid"))
    # The full reconciliations, one per invoice (ids in the invoices' order).
    cr.execute("""
        WITH ins AS (
            INSERT INTO account_full_reconcile (create_date, write_date)
            SELECT now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM bench_paid RETURNING id
        ), numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM ins)
        UPDATE bench_paid b SET full_id = numbered.id FROM numbered WHERE numbered.i = b.i
    """)
    now = "now() at time zone 'UTC'"
    cols, select = _copy_sql(env, "account_move", {
        "name": "'BNCP/' || lpad(b.i::text, 7, '0')", "sequence_prefix": "'BNCP/'", "sequence_number": "b.i",
        "payment_reference": "'BNCP/' || lpad(b.i::text, 7, '0')", "journal_id": str(journal.id),
        "partner_id": "b.partner_id", "commercial_partner_id": "b.partner_id", "partner_shipping_id": "b.partner_id",
        "invoice_partner_display_name": "p.name", "date": "b.due - 30", "invoice_date": "b.due - 30",
        "invoice_date_due": "b.due", "amount_untaxed": "b.amount", "amount_total": "b.amount",
        "amount_residual": "0", "amount_untaxed_in_currency_signed": "b.amount",
        "amount_total_in_currency_signed": "b.amount", "amount_untaxed_signed": "b.amount",
        "amount_total_signed": "b.amount", "amount_residual_signed": "0", "amount_tax": "0",
        "amount_tax_signed": "0", "payment_state": "'paid'", "access_token": "NULL",
        "create_date": now, "write_date": now,
    }, "t")
    cr.execute(f"""
        INSERT INTO account_move ({cols})
        SELECT {select} FROM bench_paid b JOIN res_partner p ON p.id = b.partner_id, account_move t WHERE t.id = %s
    """, (template.id,))
    lines = {"move_id": "m.id", "move_name": "m.name", "partner_id": "m.partner_id", "journal_id": "m.journal_id",
             "date": "m.date", "invoice_date": "m.invoice_date", "create_date": now, "write_date": now}
    for display_type, overrides in (
            ("payment_term", {
                **lines, "date_maturity": "m.invoice_date_due", "balance": "b.amount", "debit": "b.amount",
                "credit": "0", "amount_currency": "b.amount", "amount_residual": "0",
                "amount_residual_currency": "0", "price_unit": "-b.amount", "price_subtotal": "-b.amount",
                "price_total": "-b.amount", "reconciled": "true", "full_reconcile_id": "b.full_id",
                "matching_number": "b.full_id::text"}),
            ("product", {
                **lines, "balance": "-b.amount", "debit": "0", "credit": "b.amount", "amount_currency": "-b.amount",
                "price_unit": "b.amount", "price_subtotal": "b.amount", "price_total": "b.amount"})):
        cols, select = _copy_sql(env, "account_move_line", overrides, "t")
        cr.execute(f"""
            INSERT INTO account_move_line ({cols})
            SELECT {select}
              FROM account_move m JOIN bench_paid b ON b.i = m.sequence_number, account_move_line t
             WHERE m.journal_id = %s AND m.sequence_prefix = 'BNCP/' AND t.move_id = %s AND t.display_type = %s
        """, (journal.id, template.id, display_type))
    cr.execute("ANALYZE account_move;")
    # The payments: entries in the bank journal, numbered BNPY/j in their own sequence.
    cols, select = _copy_sql(env, "account_move", {
        "name": "'BNPY/' || lpad(y.j::text, 7, '0')", "sequence_prefix": "'BNPY/'", "sequence_number": "y.j",
        "partner_id": "y.partner_id", "commercial_partner_id": "y.partner_id", "date": "y.paid_on",
        "amount_untaxed": "0", "amount_total": "y.amount", "amount_residual": "0",
        "amount_total_in_currency_signed": "y.amount", "amount_total_signed": "y.amount",
        "amount_residual_signed": "0", "ref": "'BNCP/' || lpad(y.i::text, 7, '0')",
        "create_date": now, "write_date": now,
    }, "t")
    cr.execute(f"""
        INSERT INTO account_move ({cols})
        SELECT {select} FROM bench_pay y, account_move t WHERE t.id = %s
    """, (payment.id,))
    cr.execute("ANALYZE account_move;")
    pay_lines = {"move_id": "m.id", "move_name": "m.name", "partner_id": "m.partner_id", "date": "m.date",
                 "create_date": now, "write_date": now}
    for account, overrides in (
            (bank.default_account_id, {
                **pay_lines, "balance": "y.amount", "debit": "y.amount", "credit": "0",
                "amount_currency": "y.amount", "amount_residual": bank_residual,
                "amount_residual_currency": bank_residual}),
            (receivable, {
                **pay_lines, "balance": "-y.amount", "debit": "0", "credit": "y.amount",
                "amount_currency": "-y.amount", "amount_residual": "0", "amount_residual_currency": "0",
                "reconciled": "true", "full_reconcile_id": "b.full_id", "matching_number": "b.full_id::text"})):
        cols, select = _copy_sql(env, "account_move_line", overrides, "t")
        cr.execute(f"""
            INSERT INTO account_move_line ({cols})
            SELECT {select}
              FROM account_move m JOIN bench_pay y ON y.j = m.sequence_number JOIN bench_paid b ON b.i = y.i,
                   account_move_line t
             WHERE m.journal_id = %s AND m.sequence_prefix = 'BNPY/' AND t.move_id = %s AND t.account_id = %s
        """, (bank.id, payment.id, account.id))
    # Each payment's receivable line matched with its invoice's, on the payment's day (the receivable lines of each
    # side numbered first: joined by their numbers, not looked up entry by entry).
    currency = company.currency_id.id
    # Statistics of what was just inserted (within this transaction): without them PostgreSQL plans the joins below
    # for the tables as they were before, and looks the lines up entry by entry (minutes at 100,000).
    cr.execute("ANALYZE account_move; ANALYZE account_move_line;")
    cr.execute("""
        CREATE TEMP TABLE bench_paid_line AS
        SELECT move.sequence_number AS i, line.id FROM account_move move JOIN account_move_line line
            ON line.move_id = move.id
         WHERE move.journal_id = %(journal)s AND line.account_id = %(receivable)s;
        CREATE TEMP TABLE bench_pay_line AS
        SELECT move.sequence_number AS j, line.id FROM account_move move JOIN account_move_line line
            ON line.move_id = move.id
         WHERE move.journal_id = %(bank)s AND move.sequence_prefix = 'BNPY/' AND line.account_id = %(receivable)s;
        ANALYZE bench_paid_line;
        ANALYZE bench_pay_line;
        INSERT INTO account_partial_reconcile (debit_move_id, credit_move_id, full_reconcile_id, debit_currency_id,
                                               credit_currency_id, company_id, max_date, amount,
                                               debit_amount_currency, credit_amount_currency, create_date, write_date)
        SELECT debit.id, credit.id, b.full_id, %(currency)s, %(currency)s, %(company)s, y.paid_on, y.amount,
               y.amount, y.amount, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          FROM bench_pay y
          JOIN bench_paid b ON b.i = y.i
          JOIN bench_paid_line debit ON debit.i = y.i
          JOIN bench_pay_line credit ON credit.j = y.j
    """, {"currency": currency, "company": company.id, "journal": journal.id, "bank": bank.id,
          "receivable": receivable.id})
    (payments,), = env.execute_query(SQL("SELECT count(*) FROM bench_pay"))
    payment.button_draft()
    payment.unlink()
    return {"paid_journal_id": journal.id, "paid_invoices": count, "payments": payments}


def _payments_seen(env, journal, count):
    """``count`` bank statement lines left on the suspense account (Odoo's ORM), for late invoices of the book."""
    bank = env["account.journal"].search([("company_id", "=", env.company.id), ("type", "=", "bank")], limit=1)
    rows = env.execute_query(SQL(
        """
        SELECT id, name, partner_id, amount_residual_signed FROM account_move
         WHERE journal_id = %s AND invoice_date_due < CURRENT_DATE ORDER BY md5(id::text) LIMIT %s
        """, journal.id, count))
    values = []
    for index, (_move_id, name, partner_id, residual) in enumerate(rows):
        kind = index % 3
        values.append({
            "journal_id": bank.id, "date": fields.Date.today() - timedelta(days=index % 5),
            "partner_id": partner_id if kind != 1 else False,
            "amount": float(residual) if kind == 0 else round(float(residual) / 2, 2) if kind == 1 else 100.0,
            "payment_ref": f"Transfer {index}" if kind != 1 else f"Payment {name}",
        })
    env["account.bank.statement.line"].create(values)
    env.flush_all()
    return len(values)


def check_book(env):
    """Odoo's own views of the ledger agree with the book."""
    params = json.loads(env["ir.config_parameter"].get_param("collections_followup.bench"))
    journal_id = params["journal_id"]
    (count, total, residual), = env.execute_query(SQL(
        "SELECT count(*), sum(amount_total_signed), sum(amount_residual_signed) FROM account_move "
        "WHERE journal_id = %s AND state = 'posted'", journal_id,
    ))
    problems = []
    (debit, credit), = env.execute_query(SQL(
        "SELECT sum(debit), sum(credit) FROM account_move_line WHERE journal_id = %s", journal_id,
    ))
    if debit != credit:
        problems.append(f"debit {debit} != credit {credit}")
    if params.get("paid_journal_id"):
        # The paid history: balanced, and every invoice's receivable and its payments' matched to nothing left.
        (debit, credit, partials), = env.execute_query(SQL(
            """
            SELECT sum(line.debit), sum(line.credit),
                   (SELECT sum(amount) FROM account_partial_reconcile
                     WHERE debit_move_id IN (SELECT id FROM account_move_line WHERE journal_id = %(paid)s))
              FROM account_move_line line JOIN account_move move ON move.id = line.move_id
             WHERE move.journal_id = %(paid)s OR move.name LIKE 'BNPY/%%'
            """, paid=params["paid_journal_id"]))
        (invoiced,), = env.execute_query(SQL(
            "SELECT sum(amount_total_signed) FROM account_move WHERE journal_id = %s", params["paid_journal_id"]))
        if debit != credit:
            problems.append(f"paid history: debit {debit} != credit {credit}")
        if partials != invoiced:
            problems.append(f"paid history: {partials} matched for {invoiced} invoiced")
    # Invoice analysis (account.invoice.report), Odoo's SQL view of invoices.
    [(report_total,)] = env["account.invoice.report"]._read_group(
        [("journal_id", "=", journal_id)], [], ["price_subtotal:sum"])
    if round(report_total, 2) != round(float(total), 2):
        problems.append(f"invoice analysis {report_total} != book {total}")
    # Receivable of the account, as Odoo's journal items see it.
    [(receivable,)] = env["account.move.line"]._read_group(
        [("journal_id", "=", journal_id), ("account_id.account_type", "=", "asset_receivable"),
         ("reconciled", "=", False)], [], ["amount_residual:sum"])
    if round(receivable, 2) != round(float(residual), 2):
        problems.append(f"open receivable {receivable} != book {residual}")
    # The big customer's receivable (res.partner.credit, Odoo's field) and its total due (ours).
    big = env["res.partner"].browse(params["big_partner_id"])
    (big_residual,), = env.execute_query(SQL(
        "SELECT sum(amount_residual_signed) FROM account_move WHERE journal_id = %s AND partner_id = %s",
        journal_id, big.id,
    ))
    if round(big.credit, 2) != round(float(big_residual), 2):
        problems.append(f"partner credit {big.credit} != book {big_residual}")
    if round(big.collections_total_due, 2) != round(float(big_residual), 2):
        problems.append(f"collections total due {big.collections_total_due} != book {big_residual}")
    # A sample of entries: Odoo recomputes their amounts and payment state from the lines.
    sample = env["account.move"].search([("journal_id", "=", journal_id)], limit=50, order="id desc")
    if params.get("paid_journal_id"):
        # Paid invoices (their payment state from their reconciliations) and the payments' entries.
        sample |= env["account.move"].search([("journal_id", "=", params["paid_journal_id"])], limit=50,
                                             order="id desc")
        sample |= env["account.move"].search([("name", "=like", "BNPY/%")], limit=50, order="id desc")
    # And the residuals of their journal items, which Odoo works out from their reconciliations.
    lines = sample.line_ids

    def state():
        return ([(m.amount_total_signed, m.amount_residual_signed, m.payment_state) for m in sample]
                + [(line.amount_residual, line.amount_residual_currency, line.reconciled) for line in lines])

    stored = state()
    env.invalidate_all()
    for field in ("amount_total_signed", "amount_residual_signed", "payment_state"):
        env.add_to_compute(sample._fields[field], sample)
    for field in ("amount_residual", "amount_residual_currency", "reconciled"):
        env.add_to_compute(lines._fields[field], lines)
    lines._recompute_recordset()
    sample._recompute_recordset()
    recomputed = state()
    if stored != recomputed:
        names = sample.mapped("name") + [f"{line.move_name} line {line.id}" for line in lines]
        differ = [(name, a, b) for name, a, b in zip(names, stored, recomputed, strict=True) if a != b]
        problems.append(f"recomputed amounts differ from the stored ones: {differ[:3]}")
    env.cr.rollback()
    emit("check", invoices=count, total=float(total), problems=problems)


def _queries(env):
    return env.cr.sql_log_count


def _cpu(env):
    """(CPU seconds of this Odoo process, of its PostgreSQL backend or None): what a sample costs whatever else the
    machine does at the time, where wall-clock seconds on a shared machine vary by a fifth from one run to the next.
    The backend's from /proc when the server is local and readable (as here), else None."""
    (pid,), = env.execute_query(SQL("SELECT pg_backend_pid()"))
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        backend = (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, ValueError, IndexError):
        backend = None
    return time.process_time(), backend


def _cpu_spent(env, before):
    """{'cpu_s', 'db_cpu_s'} spent since ``before`` (_cpu)."""
    after = _cpu(env)
    return {"cpu_s": after[0] - before[0],
            "db_cpu_s": None if after[1] is None or before[1] is None else after[1] - before[1]}


def measure_decision(env, repeat=5):
    """Decision phase of the daily run against one raw GROUP BY over the same open receivable lines."""
    company = env.company
    today = fields.Date.context_today(env.user)
    Partner = env["res.partner"].with_company(company)
    raw_sql = SQL("""
        SELECT line.partner_id, line.move_id, MIN(line.date_maturity), SUM(line.amount_residual)
          FROM account_move_line line
          JOIN account_account account ON account.id = line.account_id
         WHERE line.company_id = %s AND account.account_type = 'asset_receivable'
           AND line.parent_state = 'posted' AND NOT line.reconciled AND line.amount_residual != 0
      GROUP BY line.partner_id, line.move_id
    """, company.id)
    sql_times, decide_times, decide_queries = [], [], []
    rows = due = 0

    def decide():
        env.invalidate_all()
        before = _queries(env)
        started = time.perf_counter()
        # As the run does it: chunk by chunk, nothing kept but what is due.
        count = 0
        for chunk in env["collections.run"].with_company(company)._decision_chunks(company, today):
            count += sum(1 for _policy, decision in chunk.values() if decision.status == "action")
        decide_times.append(time.perf_counter() - started)
        decide_queries.append(_queries(env) - before)
        return count

    # Memory first: the raw query below holds every row at once, the decision phase must not.
    baseline_rss = rss_mb()
    due = decide()
    decision_rss = rss_mb()
    # Then in turns, so that both see the same machine (a shared 2-core virtual machine
    # varies by a fifth from one minute to the next): best of each.
    for _ in range(repeat):
        env.invalidate_all()
        started = time.perf_counter()
        rows = len(env.execute_query(raw_sql))
        sql_times.append(time.perf_counter() - started)
        decide()
    emit("decision", raw_sql_s=min(sql_times), decision_s=min(decide_times), rows=rows, due=due,
         queries=min(decide_queries), ratio=min(decide_times) / min(sql_times), rss_mb=decision_rss,
         rss_baseline_mb=baseline_rss, customers=Partner.search_count([("name", "like", "Customer %")]))


def measure_exposure(env):
    params = json.loads(env["ir.config_parameter"].get_param("collections_followup.bench"))
    company = env.company
    result = {}
    for key in ("single_partner_id", "big_partner_id"):
        partner = env["res.partner"].browse(params[key]).with_company(company)
        times, queries = [], []
        for _ in range(5):
            env.invalidate_all()
            before = _queries(env)
            started = time.perf_counter()
            check = partner._collections_credit_check(company, 100.0)
            times.append(time.perf_counter() - started)
            queries.append(_queries(env) - before)
        invoices = env["account.move"].search_count([("partner_id", "=", partner.id), ("state", "=", "posted")])
        result[key] = {"invoices": invoices, "seconds": min(times), "queries": min(queries),
                       "exposure_after": float(check.exposure_after)}
    emit("exposure", **result)


def measure_foresight(env):
    """The run preview for tomorrow and for two weeks ahead (the days between decided as the runs would
    take them), and 12 months of the ledger replayed with the default policy (engine/backtest.py)."""
    company = env.company
    today = fields.Date.context_today(env.user)
    Preview = env["collections.run.preview"]
    result = {}
    for key, days in (("preview_1", 1), ("preview_14", 14)):
        env.invalidate_all()
        before = _queries(env)
        started = time.perf_counter()
        lines = Preview._lines(company, today, today + timedelta(days=days))
        result[key] = {"seconds": time.perf_counter() - started, "customers": len(lines),
                       "queries": _queries(env) - before}
    Backtest = env["collections.policy.backtest"]
    policy = env["collections.policy"]._get_default_policy(company)
    env.invalidate_all()
    started = time.perf_counter()
    start, end = today - relativedelta(months=12), today - timedelta(days=1)
    history = Backtest._history(company, start, end)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    replayed = replay(Ladder(policy.level_ids._to_engine()), Backtest._rules(policy.level_ids), history, start, end)
    result["replay"] = {"read_s": read_s, "replay_s": time.perf_counter() - started, "items": len(history),
                        "decisions": replayed.decisions, "reminders": sum(replayed.reminders.values()),
                        "rss_mb": rss_mb()}
    emit("foresight", **result)


def measure_forecast(env):
    """The cash forecast rebuilt for every open item (collections.forecast._rebuild, as its nightly job does), in a
    process of its own: its time against the decision phase's, and the process's peak memory above what it held
    before (flat as the book grows: a batch of customers at a time); then the 12-month backtest as its monthly
    job runs it (collections.forecast._measure), with the accuracy it measured on the book."""
    company = env.company
    today = fields.Date.context_today(env.user)
    env.invalidate_all()
    before_mb = rss_mb()
    before = _queries(env)
    started = time.perf_counter()
    items = env["collections.forecast"]._rebuild(company, today)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queries = _queries(env) - before
    # The product's own 12-month backtest on the book's paid history (its monthly job): its time and memory. On make
    # bench's book what it finds is no measure of the model: the open invoices are drawn at random, not by their
    # customers' behaviour, and stay unpaid whatever the habit; make bench-forecast calls this on a book of
    # generate(open_by_behaviour=True), where it is.
    started = time.perf_counter()
    accuracy = env["collections.forecast"]._measure(company, today)
    backtest_s = time.perf_counter() - started
    backtest = {"seconds": backtest_s, "items": accuracy.items, "sentence": accuracy.sentence,
                **{f"{metric}{suffix}": accuracy[f"{metric}{suffix}"]
                   for metric in ("wape", "mae", "brier") for suffix in ("", "_due", "_average")}}
    env.cr.rollback()
    emit("forecast", seconds=seconds, items=items, queries=queries, rss_before_mb=before_mb, rss_peak_mb=peak_mb,
         backtest=backtest, rss_backtest_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _sample(env, customers):
    """The first ``customers`` customers the run acts on today, and the day."""
    company = env.company
    today = fields.Date.context_today(env.user)
    Run = env["collections.run"].with_company(company)
    due = []
    for chunk in Run._decision_chunks(company, today):
        due += [pid for pid, (_p, d) in chunk.items() if d.status == "action"][:customers - len(due)]
        if len(due) >= customers:
            break
    return due, today


def _sending_hour(env, partner, today):
    """Noon on ``today`` in the customer's time zone, as naive UTC (the run's clock): inside the default contact
    hours, so that the sample measures sending, not waiting for the hours, whenever the bench runs."""
    tz = ZoneInfo(env["collections.contact.rules"]._customer_tz(partner))
    return datetime.combine(today, day_time(12, 0), tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def _scheduled_run(env):
    """collections.run as its scheduled action runs it: in the cron's context, so that each batch is committed as
    it is done (ir.cron._commit_progress outside a cron's progress record only commits), not the whole sample in
    one transaction."""
    cron = env.ref("collections_followup.ir_cron_collections_run")
    return env["collections.run"].with_company(env.company).with_context(cron_id=cron.id)


def _timed_run(env, due, today, now):
    """The daily run for the customers ``due``, committed: (handled, seconds, queries, emails queued, CPU spent)."""
    company = env.company
    before = _queries(env)
    cpu = _cpu(env)
    started = time.perf_counter()
    handled = _scheduled_run(env)._run_company(company, today, now=now, partner_ids=due)
    env.cr.commit()
    seconds = time.perf_counter() - started
    spent = _cpu_spent(env, cpu)
    queries = _queries(env) - before
    (mails,), = env.execute_query(SQL("SELECT count(*) FROM mail_mail WHERE state = 'outgoing'"))
    return handled, seconds, queries, mails, spent


def measure_run(env, customers):
    """The whole daily run (decide, render, queue emails, create tasks) for ``customers`` due customers, at noon
    in the customers' time zone; fails when fewer emails are queued than customers sampled."""
    due, today = _sample(env, customers)
    now = _sending_hour(env, env["res.partner"].browse(due[:1]), today)
    env.invalidate_all()
    env.cr.commit()
    base_rss = rss_mb()
    handled, seconds, queries, mails, spent = _timed_run(env, due, today, now)
    (activities,), = env.execute_query(SQL("SELECT count(*) FROM mail_activity"))
    (actions,), = env.execute_query(SQL("SELECT count(*) FROM collections_action WHERE origin = 'scheduler'"))
    emit("run", customers=len(due), handled=handled, seconds=seconds, per_1000_s=seconds * 1000 / max(len(due), 1),
         queries=queries, queries_per_customer=queries / max(len(due), 1), mails=mails, activities=activities,
         log_entries=actions, rss_before_mb=base_rss, rss_peak_mb=rss_mb(), now=str(now), **spent)
    if mails < len(due):
        raise SystemExit(f"the whole-run sample queued {mails} emails for {len(due)} customers: it measured "
                         "something else than sending (contact rules, failures); see the log entries")


def measure_run_worker(env, customers, start, at):
    """One of two workers of the daily run (``start``: where in the list of customers it begins, as the scheduled
    action's second worker does) over the ``customers`` due customers of the whole-run sample, both starting at the
    epoch ``at``: the first worker's start to the last one's end is the run's time with two workers."""
    company = env.company
    due, today = _sample(env, customers)
    now = _sending_hour(env, env["res.partner"].browse(due[:1]), today)
    env.invalidate_all()
    env.cr.commit()
    time.sleep(max(at - time.time(), 0))
    began = time.time()
    handled = _scheduled_run(env)._run_company(company, today, now=now, partner_ids=due, start=start)
    env.cr.commit()
    emit(f"worker_{start}", start=start, began=began, ended=time.time(), handled=handled, customers=len(due),
         rss_peak_mb=rss_mb())


def prepare_scheduled(env, workers=2):
    """A copy of the book made ready for the daily run as Odoo's scheduler runs it (tools/bench.py
    run_scheduled): every policy may contact customers at any hour of any day (so that the run sends whenever
    the bench runs, not waits for the contact hours), the run given ``workers`` workers (its setting: scheduled
    actions), active but not due, and every other scheduled action off (Odoo's mail queue would try to deliver
    the queued emails meanwhile)."""
    from odoo.addons.collections_followup.models.collections_policy import WEEKDAY_FIELDS
    env["collections.policy"].search([]).write(
        {"contact_hour_from": 0.0, "contact_hour_to": 24.0, **dict.fromkeys(WEEKDAY_FIELDS, True)})
    env["collections.run"]._set_workers(workers)
    first, others = env["collections.run"]._worker_crons()
    crons = (first | others).filtered("active")
    env["ir.cron"].search([("id", "not in", crons.ids)]).active = False
    crons.write({"nextcall": fields.Datetime.now() + timedelta(days=1)})
    due, today = _sample(env, 10 ** 9)
    env.cr.commit()
    emit("scheduled_ready", due=len(due), crons=crons.ids, today=str(today))


def measure_scheduled_done(env, today):
    """What the scheduled run did on the copy: customers with a scheduler entry of ``today``, emails queued."""
    (handled,), = env.execute_query(SQL(
        "SELECT count(DISTINCT partner_id) FROM collections_action WHERE origin = 'scheduler' AND action_date = %s",
        today))
    (mails,), = env.execute_query(SQL("SELECT count(*) FROM mail_mail WHERE state = 'outgoing'"))
    emit("scheduled_done", handled=handled, mails=mails)


def measure_run_pdf(env, customers):
    """The whole run for ``customers`` due customers with every level attaching the invoices' PDFs, half of those
    invoices with a PDF stored beforehand (made by Odoo's invoice sending, as when an invoice was sent), the other
    half made by the run (80 per wkhtmltopdf call with Odoo's patched build, one otherwise) and kept."""
    company = env.company
    due, today = _sample(env, customers)
    now = _sending_hour(env, env["res.partner"].browse(due[:1]), today)
    env["collections.level"].search([]).attach_invoices = True
    decisions = env["collections.run"].with_company(company)._decide_all(company, today, now=now, partner_ids=due)
    listed = sorted({move_id for _policy, decision in decisions.values() for move_id in decision.listed_move_ids})
    stored = listed[::2]
    started = time.perf_counter()
    env["collections.send"]._invoice_documents(stored)
    env.cr.commit()
    stored_s = time.perf_counter() - started
    env.invalidate_all()
    handled, seconds, queries, mails, _spent = _timed_run(env, due, today, now)
    # Each invoice's PDF as Odoo keeps it (account.move.invoice_pdf_report_id reads these attachments).
    (kept,), = env.execute_query(SQL(
        "SELECT count(DISTINCT res_id) FROM ir_attachment WHERE res_model = 'account.move'"
        " AND res_field = 'invoice_pdf_report_file' AND res_id = ANY(%s)", listed))
    emit("run_pdf", customers=len(due), handled=handled, seconds=seconds, per_1000_s=seconds * 1000 / max(len(due), 1),
         queries_per_customer=queries / max(len(due), 1), mails=mails, invoices=len(listed), stored_before=len(stored),
         stored_before_s=stored_s, pdfs_kept=kept)
    if mails < len(due):
        raise SystemExit(f"the PDF sample queued {mails} emails for {len(due)} customers")


def measure_composer(env, customers):
    """Odoo's own mass-mail composer (mail.compose.message, mass_mail) rendering the first reminder's template
    for the same customers and queueing the emails: the anchor the whole run is compared with."""
    due, _today = _sample(env, customers)
    template = env["collections.policy"]._get_default_policy(env.company).level_ids.filtered(
        lambda level: level.delay > 0).sorted("delay")[:1].mail_template_id
    env.invalidate_all()
    env.cr.commit()
    before_mails = env["mail.mail"].search_count([])
    cpu = _cpu(env)
    started = time.perf_counter()
    composer = env["mail.compose.message"].with_context(active_model="res.partner", active_ids=due).create({
        "composition_mode": "mass_mail", "model": "res.partner", "res_ids": due, "template_id": template.id,
    })
    composer._action_send_mail()
    env.flush_all()
    env.cr.commit()
    seconds = time.perf_counter() - started
    spent = _cpu_spent(env, cpu)
    mails = env["mail.mail"].search_count([]) - before_mails
    emit("composer", customers=len(due), seconds=seconds, per_1000_s=seconds * 1000 / max(len(due), 1), mails=mails,
         **spent)


def oca_configure_and_run(env):
    """OCA account_credit_control's daily decision (credit lines of a run) on the same book; returns the run."""
    company = env.company
    receivable = env["account.account"].search([
        ("account_type", "=", "asset_receivable"), ("company_ids", "in", company.id)])
    policy = env.ref("account_credit_control.credit_control_3_time")
    policy.write({"account_ids": [(6, 0, receivable.ids)], "company_id": company.id})
    company.credit_policy_id = policy
    env.cr.commit()
    today = fields.Date.context_today(env.user)
    run = env["credit.control.run"].create({"date": today, "policy_ids": [(6, 0, policy.ids)]})
    env.invalidate_all()
    before = _queries(env)
    started = time.perf_counter()
    run.generate_credit_lines()
    env.flush_all()
    seconds = time.perf_counter() - started
    queries = _queries(env) - before
    lines = env["credit.control.line"].search_count([("run_id", "=", run.id)])
    env.cr.commit()
    emit("oca", seconds=seconds, queries=queries, credit_lines=lines, rss_mb=rss_mb())
    return run


def oca_send(env, run, customers):
    """OCA account_credit_control's own sending by email (its "Send by email" step: one communication per customer,
    level and currency, its template posted on it, the email queued, without the PDF summary its template attaches
    as shipped) for the email lines of the same ``customers`` due customers our whole-run sample sends to."""
    due, _today = _sample(env, customers)
    lines = env["credit.control.line"].search([
        ("run_id", "=", run.id), ("partner_id", "in", due), ("channel", "=", "email")])
    lines.write({"state": "to_be_sent"})
    # As shipped, its template attaches a PDF summary to each email; our whole-run sample attaches none, so the
    # summary is left out here too (the PDFs are the run_pdf sample's subject).
    lines.policy_level_id.email_template_id.report_template_ids = [(5, 0, 0)]
    env.cr.commit()
    env.invalidate_all()
    before_mails = env["mail.mail"].search_count([])
    before = _queries(env)
    base_rss = rss_mb()
    started = time.perf_counter()
    comms = env["credit.control.communication"]._generate_comm_from_credit_lines(lines)
    comms._generate_emails()
    env.flush_all()
    env.cr.commit()
    seconds = time.perf_counter() - started
    queries = _queries(env) - before
    mails = env["mail.mail"].search_count([]) - before_mails
    partners = len(set(comms.mapped("partner_id").ids))
    emit("oca_send", customers=partners, lines=len(lines), communications=len(comms), mails=mails,
         seconds=seconds, per_1000_s=seconds * 1000 / max(partners, 1), queries_per_customer=queries / max(partners, 1),
         rss_before_mb=base_rss, rss_peak_mb=rss_mb())
    if mails < len(comms):
        raise SystemExit(f"OCA's sending queued {mails} emails for {len(comms)} communications")
