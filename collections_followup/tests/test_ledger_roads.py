"""The ledger as an invariant: random books built through every road money takes in Odoo 19.

Each step books one thing through Odoo's own documents and methods (an invoice, an instalment invoice,
a credit note, a partial credit note, a payment, a payment with a write-off, an early-payment discount,
a bank statement line matched / booked to the receivable / left on the suspense account, a journal
entry, a payment in another currency at another rate, an invoice of a branch paid by the root, an
invoice of another company, cancel and reset to draft, unreconcile). After every step, for every
customer and followed company (a root and its branches):

- our total due = Odoo's own receivable balance (res.partner.credit, which reads the company hierarchy);
- our net overdue = the open items due before today (debts followed up) less every unapplied credit,
  never below zero, computed here from the journal items;
- every screen's figure equals it: the customer form, the worklist, the dashboard's largest overdue.

``COLLECTIONS_LEDGER_STEPS``, ``COLLECTIONS_LEDGER_SEED`` and ``COLLECTIONS_LEDGER_ROUNDS`` (books one after the
other, each from an empty ledger) run it longer (``make soak``); a divergence names its seed and step, and
becomes a regression test.
"""
import logging
import os
import random
import time
from collections import defaultdict
from datetime import timedelta

from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools import float_compare, float_is_zero

from .common import TODAY, CollectionsCommon

_logger = logging.getLogger(__name__)
STEPS = int(os.environ.get("COLLECTIONS_LEDGER_STEPS") or 200)
SEED = int(os.environ.get("COLLECTIONS_LEDGER_SEED") or 20261207)
# Books built one after the other (each from an empty ledger, seeds SEED, SEED + 1, ...): make soak.
ROUNDS = int(os.environ.get("COLLECTIONS_LEDGER_ROUNDS") or 1)
# Every step checks the decision against Odoo; the screens (form, worklist, dashboard) every SCREENS_EVERY steps
# (1 in make test; make soak checks them every 10th step, and at the end of each book).
SCREENS_EVERY = int(os.environ.get("COLLECTIONS_LEDGER_SCREENS_EVERY") or 1)
# The clock as it is at import, out of freezegun's reach (it patches the module's own names): the test runs at a
# frozen time, and make soak's log says where its time goes.
CLOCKS = {"real": time.perf_counter}


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestLedgerRoads(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.euro = cls.setup_other_currency("EUR", rates=[("2025-01-01", 2.0), ("2026-02-01", 2.5),
                                                          ("2026-03-20", 3.0)])
        cls.root = cls.company
        cls.root.write({"child_ids": [Command.create({"name": "Branch North"})]})
        cls.cr.precommit.run()  # the branch's chart of accounts (shared with the root)
        cls.branch = cls.root.child_ids
        cls.other = cls.setup_other_company()["company"]
        cls.env["collections.policy"].sudo()._get_default_policy(cls.other)
        cls.collector.write({"company_ids": [Command.link(cls.branch.id), Command.link(cls.other.id)]})
        cls.env.user.write({"company_ids": [Command.link(cls.branch.id)]})
        cls.term = cls.env["account.payment.term"].create({
            "name": "30 / 70", "line_ids": [
                Command.create({"value": "percent", "value_amount": 30.0, "nb_days": 0}),
                Command.create({"value": "percent", "value_amount": 70.0, "nb_days": 60}),
            ],
        })
        cls.discount_term = cls.env["account.payment.term"].create({
            "name": "2/10 net 30", "early_discount": True, "discount_percentage": 2.0, "discount_days": 10,
            "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
        })
        cls.customers = [cls._customer(f"Road Customer {index}", f"road{index}@example.com") for index in range(4)]
        cls.suspense = cls.company_data["default_journal_bank"].suspense_account_id

    # -- the roads --------------------------------------------------------------------------

    def _date(self, rng, before=90, after=15):
        return TODAY + timedelta(days=rng.randint(-before, after))

    def _invoice(self, rng, customer, company=None, move_type="out_invoice", currency=None, amount=None):
        company = company or self.root
        when = self._date(rng, 120, 5)
        values = {
            "move_type": move_type, "partner_id": customer.id, "company_id": company.id,
            "currency_id": (currency or company.currency_id).id, "invoice_date": when,
            "invoice_line_ids": [Command.create({
                "name": "Goods", "quantity": 1, "price_unit": amount or rng.randint(50, 3000), "tax_ids": [],
            })],
        }
        if company == self.other:
            values["journal_id"] = self.env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "sale")], limit=1).id
        if move_type == "out_invoice":
            choice = rng.random()
            if choice < 0.2:
                values["invoice_payment_term_id"] = self.term.id
            elif choice < 0.3:
                values["invoice_payment_term_id"] = self.discount_term.id
            else:
                values["invoice_date_due"] = when + timedelta(days=rng.choice([0, 14, 30]))
        move = self.env["account.move"].with_company(company).create(values)
        move.action_post()
        return move

    def _open_invoices(self, customer, company=None):
        return self.env["account.move"].search([
            ("partner_id", "=", customer.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("company_id", "in", (company or self.root).ids + ((company or self.root).child_ids.ids)),
        ])

    def _register(self, moves, amount=None, when=None, **values):
        wizard = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=moves.ids).create({
                "payment_date": when or TODAY, **({"amount": amount} if amount else {}), **values})
        return wizard._create_payments()

    def _road(self, rng, name, customer):
        """Book one thing through road ``name`` for ``customer``; returns a sentence for the failure message."""
        invoices = self._open_invoices(customer)
        invoice = rng.choice(invoices) if invoices else None
        if name == "invoice":
            move = self._invoice(rng, customer, currency=self.euro if rng.random() < 0.25 else None)
            return f"invoice {move.name} {move.amount_total} {move.currency_id.name}"
        if name == "branch invoice":
            move = self._invoice(rng, customer, company=self.branch)
            return f"branch invoice {move.name} {move.amount_total}"
        if name == "other company invoice":
            move = self._invoice(rng, customer, company=self.other)
            return f"invoice of the other company {move.name}"
        if name == "credit note":
            move = self._invoice(rng, customer, move_type="out_refund")
            return f"credit note {move.name} {move.amount_total} left unmatched"
        if not invoice:
            return "nothing open"
        if name == "partial payment":
            amount = round(invoice.amount_residual * rng.uniform(0.1, 0.9), 2)
            self._register(invoice, amount, self._date(rng, 30, 0), payment_difference_handling="open")
            return f"partial payment {amount} of {invoice.name}"
        if name == "full payment":
            self._register(invoice, when=self._date(rng, 30, 0))
            return f"full payment of {invoice.name}"
        if name == "payment with write-off":
            amount = round(invoice.amount_residual * rng.uniform(0.9, 0.99), 2)
            self._register(invoice, amount, TODAY, payment_difference_handling="reconcile",
                           writeoff_account_id=self.company_data["default_account_expense"].id,
                           writeoff_label="Small difference")
            return f"payment of {amount} of {invoice.name} with the rest written off"
        if name == "early discount":
            if invoice.invoice_payment_term_id != self.discount_term:
                return "no discount term"
            self._register(invoice, when=invoice.invoice_date + timedelta(days=rng.randint(0, 9)))
            return f"early-discount payment of {invoice.name}"
        if name == "partial credit note":
            reversal = self.env["account.move.reversal"].with_context(
                active_model="account.move", active_ids=invoice.ids).create({
                    "journal_id": invoice.journal_id.id, "date": TODAY, "reason": "partial"})
            refund = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
            refund.invoice_line_ids[:1].price_unit = round(refund.invoice_line_ids[:1].price_unit * 0.4, 2)
            refund.action_post()
            if rng.random() < 0.5:
                (refund | invoice).line_ids.filtered(
                    lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled).reconcile()
            return f"partial credit note {refund.name} of {invoice.name}"
        if name in ("statement line to receivable", "statement line matched", "statement line on suspense"):
            amount = round(invoice.amount_residual_signed * rng.uniform(0.2, 1.0), 2)
            values = {"journal_id": self.company_data["default_journal_bank"].id, "partner_id": customer.id,
                      "amount": amount, "date": self._date(rng, 10, 0), "payment_ref": invoice.name}
            if name != "statement line on suspense":
                values["counterpart_account_id"] = self.company_data["default_account_receivable"].id
            line = self.env["account.bank.statement.line"].create(values)
            if name == "statement line matched":
                (line.move_id.line_ids | invoice.line_ids).filtered(
                    lambda item: item.account_id.account_type == "asset_receivable" and not item.reconciled
                ).reconcile()
            return f"{name}: {amount} naming {invoice.name}"
        if name in ("entry credit", "entry debit"):
            amount = rng.randint(50, 1500)
            sign = -1 if name == "entry credit" else 1
            entry = self.env["account.move"].create({
                "move_type": "entry", "date": self._date(rng, 60, 0), "journal_id":
                    self.company_data["default_journal_misc"].id, "line_ids": [
                    Command.create({"name": "Opening balance", "account_id":
                                    self.company_data["default_account_receivable"].id, "partner_id": customer.id,
                                    "balance": sign * amount, "date_maturity": self._date(rng, 60, 10)}),
                    Command.create({"name": "Opening balance", "account_id":
                                    self.company_data["default_account_expense"].id, "balance": -sign * amount}),
                ]})
            entry.action_post()
            return f"{name} of {amount} (no follow-up: {entry.line_ids[:1].no_followup})"
        if name == "foreign payment":
            if invoice.currency_id != self.euro:
                return "not in euros"
            # What is left in euros (at another rate than the invoice's own), or as many euros as it leaves in the
            # company's currency (less or more than it owes in euros).
            amount = invoice.amount_residual if rng.random() < 0.5 else invoice.amount_residual_signed
            payment = self.env["account.payment"].create({
                "payment_type": "inbound", "partner_type": "customer", "partner_id": customer.id,
                "amount": amount, "currency_id": self.euro.id, "date": TODAY,
                "journal_id": self.company_data["default_journal_bank"].id,
            })
            payment.action_post()
            matched = rng.random() < 0.5
            if matched:  # Odoo books the exchange difference
                (payment.move_id.line_ids | invoice.line_ids).filtered(
                    lambda item: item.account_id.account_type == "asset_receivable" and not item.reconciled
                ).reconcile()
            state = "matched" if matched else "on account"
            return f"payment of {amount} EUR for {invoice.name} at today's rate ({state})"
        if name == "branch paid by root":
            move = self._invoice(rng, customer, company=self.branch)
            self._register(move, journal_id=self.company_data["default_journal_bank"].id)
            return f"branch invoice {move.name} paid into the root's bank"
        if name == "reset to draft":
            if invoice.amount_residual != invoice.amount_total:
                return "partly paid"
            invoice.button_draft()
            if rng.random() < 0.5:
                invoice.button_cancel()
                return f"{invoice.name} cancelled"
            invoice.action_post()
            return f"{invoice.name} reset to draft and posted again"
        if name == "unreconcile":
            paid = self.env["account.move"].search([("partner_id", "=", customer.id), ("move_type", "=", "out_invoice"),
                                                    ("payment_state", "in", ("paid", "partial", "in_payment"))])
            if not paid:
                return "nothing paid"
            move = rng.choice(paid)
            move.line_ids.filtered(
                lambda item: item.account_id.account_type == "asset_receivable").remove_move_reconcile()
            return f"{move.name} unreconciled"
        raise AssertionError(name)

    ROADS = ("invoice", "invoice", "branch invoice", "other company invoice", "credit note", "partial payment",
             "full payment", "payment with write-off", "early discount", "partial credit note",
             "statement line to receivable", "statement line matched", "statement line on suspense", "entry credit",
             "entry debit", "foreign payment", "branch paid by root", "reset to draft", "unreconcile")

    # -- the invariant ----------------------------------------------------------------------

    def _odoo(self, customer, company):
        """(Odoo's receivable balance for the company hierarchy, net overdue from the journal items)."""
        balance = customer.with_company(company).credit
        items = self.env["account.move.line"].search([
            ("partner_id", "=", customer.id), ("company_id", "child_of", company.id), ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"), ("reconciled", "=", False),
        ])
        overdue = credits = 0.0
        # An exchange difference: a foreign item with nothing left in its currency, or the customer's open items in
        # a foreign currency (same account) that together owe nothing in it.
        in_currency = defaultdict(float)
        for item in items:
            in_currency[(item.account_id, item.currency_id)] += item.amount_residual_currency
        for item in items:
            foreign = item.currency_id != item.company_currency_id
            if foreign and (item.currency_id.is_zero(item.amount_residual_currency)
                            or item.currency_id.is_zero(in_currency[(item.account_id, item.currency_id)])):
                continue
            if item.amount_residual < 0:
                credits -= item.amount_residual
            elif not item.no_followup and (item.date_maturity or item.date) < TODAY:
                overdue += item.amount_residual
        return balance, max(overdue - credits, 0.0)

    def _screens(self, customers, company, screens=True):
        """{customer: {screen: figure}} of what Collections shows (the decision's figures only, without ``screens``)."""
        Partner = self.env["res.partner"].with_user(self.collector).with_company(company).with_context(
            allowed_company_ids=[company.id, *company.child_ids.ids])
        decisions = Partner.browse([c.id for c in customers])._collections_decide(company, TODAY)
        if not screens:
            return {customer: {"total due (decision)": float(decisions[customer.id][1].total_due),
                               "net overdue (decision)": float(decisions[customer.id][1].net_overdue)}
                    for customer in customers}
        # The worklist's rows are numbered anew by each query: nothing of an earlier step's read may be reused.
        self.env["collections.worklist"].invalidate_model()
        worklist = {row.partner_id.id: row.amount_overdue for row in self.env["collections.worklist"].with_user(
            self.collector).with_company(company).search([("company_id", "=", company.id)])}
        dashboard = {row["id"]: row["overdue"] for row in self.env["collections.dashboard"]._top_customers(
            company, TODAY)}
        screens = {}
        for customer in customers:
            customer.invalidate_recordset()
            _policy, decision = decisions[customer.id]
            screens[customer] = {
                "total due (decision)": float(decision.total_due),
                "net overdue (decision)": float(decision.net_overdue),
                "form": Partner.browse(customer.id).collections_total_overdue,
                "worklist": worklist.get(customer.id, 0.0),
                "dashboard": dashboard.get(customer.id, float(decision.net_overdue)),
            }
        return screens

    def _check(self, seed, step, road, said, screens=True):
        for company in (self.root, self.other):
            screens = self._screens(self.customers, company, screens)
            for customer in self.customers:
                balance, net = self._odoo(customer, company)
                figures = screens[customer]
                wrong = {name: value for name, value in figures.items()
                         if float_compare(value, balance if name.startswith("total") else net, precision_digits=2)}
                if wrong:
                    self.fail(f"seed {seed}, step {step} ({road}: {said}), {customer.name} in {company.name}: "
                              f"Odoo's balance {balance}, net overdue {net}; ours {figures}")

    def test_every_road_keeps_our_figures_equal_to_odoos(self):
        counts = {}
        spent = defaultdict(float)  # seconds booking the roads and checking the figures (make soak's log)
        for seed in range(SEED, SEED + ROUNDS):
            rng = random.Random(seed)
            # Each book from an empty ledger (the roads' records rolled back after the round).
            savepoint = self.env.cr.savepoint()
            try:
                for step in range(STEPS):
                    road = rng.choice(self.ROADS)
                    customer = rng.choice(self.customers)
                    started = CLOCKS["real"]()
                    said = self._road(rng, road, customer)
                    booked = CLOCKS["real"]()
                    counts[road] = counts.get(road, 0) + 1
                    self._check(seed, step, road, said,
                                screens=step % SCREENS_EVERY == SCREENS_EVERY - 1 or step == STEPS - 1)
                    spent["booking"] += booked - started
                    spent[road] += booked - started
                    spent["checking"] += CLOCKS["real"]() - booked
                # The book was not left empty (before its round is rolled back).
                self.assertFalse(float_is_zero(sum(c.with_company(self.root).credit for c in self.customers),
                                               precision_digits=2), f"seed {seed}: nothing owed after {STEPS} steps")
            finally:
                savepoint.close(rollback=ROUNDS > 1)
            _logger.info("ledger roads: seed %s, %s steps, after each the figures equal Odoo's", seed, STEPS)
        _logger.info("ledger roads: seeds %s to %s, %s steps in all (%.0f s booking, %.0f s checking): %s; seconds "
                     "by road: %s", SEED, SEED + ROUNDS - 1, STEPS * ROUNDS, spent["booking"], spent["checking"],
                     dict(sorted(counts.items())), {road: round(spent[road]) for road in sorted(counts)})
        # The book went through every road.
        self.assertEqual(set(counts), set(self.ROADS))
