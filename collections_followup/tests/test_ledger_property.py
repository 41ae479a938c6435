"""Random books through the real run: what the reminders ask for equals the ledger.

Each random customer gets invoices (some on an instalment term, some in euros), partial
payments, credit notes and payments left unmatched. After the daily run, for every customer:
- nothing is reminded that the ledger says is covered (late debt less unapplied credits <= 0);
- a reminded customer's decision asks for the ledger's late debt less its unapplied credits
  (company currency), and the reminder table's net per currency is the ledger's, per currency.
The ledger side is read straight from the journal items, not through the addon's reader."""
import logging
import random
from collections import defaultdict
from datetime import timedelta

from odoo.tests import freeze_time, tagged
from odoo.tools import float_compare

from .common import TODAY, CollectionsCommon

_logger = logging.getLogger(__name__)
SEED = 20261201
CUSTOMERS = 24


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestLedgerProperty(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.euro = cls.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        cls.term = cls.env["account.payment.term"].create({
            "name": "40 / 60", "line_ids": [
                (0, 0, {"value": "percent", "value_amount": 40.0, "nb_days": 0}),
                (0, 0, {"value": "percent", "value_amount": 60.0, "nb_days": 45}),
            ],
        })
        rng = random.Random(SEED)
        cls.customers = cls.env["res.partner"]
        for index in range(CUSTOMERS):
            customer = cls._customer(f"Random Customer {index:02d}", f"random{index}@example.com")
            cls.customers |= customer
            for _invoice in range(rng.randint(1, 4)):
                currency = cls.euro if rng.random() < 0.25 else cls.company_data["currency"]
                amount = rng.randint(100, 5000)
                invoice_date = TODAY - timedelta(days=rng.randint(-10, 120))
                move = cls.env["account.move"].create({
                    "move_type": "out_invoice", "partner_id": customer.id,
                    "journal_id": cls.company_data["default_journal_sale"].id, "currency_id": currency.id,
                    "invoice_date": invoice_date,
                    # an instalment term for some, else a single due date 0 to 30 days after the invoice
                    **({"invoice_payment_term_id": cls.term.id} if rng.random() < 0.3 else
                       {"invoice_date_due": invoice_date + timedelta(days=rng.choice([0, 15, 30]))}),
                    "invoice_line_ids": [(0, 0, {
                        "name": "Goods", "quantity": 1, "price_unit": amount, "tax_ids": [(6, 0, [])],
                        "account_id": cls.company_data["default_account_revenue"].id,
                    })],
                })
                move.action_post()
                if rng.random() < 0.3:  # a partial payment
                    cls._pay(move, round(move.amount_residual * rng.uniform(0.1, 0.9), 2),
                             TODAY - timedelta(days=rng.randint(0, 30)))
            if rng.random() < 0.5:  # an invoice not yet due
                cls._invoice(customer, rng.randint(100, 3000), -rng.randint(1, 40))
            if rng.random() < 0.4:  # a credit note left unmatched
                refund = cls.env["account.move"].create({
                    "move_type": "out_refund", "partner_id": customer.id,
                    "journal_id": cls.company_data["default_journal_sale"].id,
                    "invoice_date": TODAY - timedelta(days=rng.randint(0, 60)),
                    "invoice_line_ids": [(0, 0, {
                        "name": "Returned", "quantity": 1, "price_unit": rng.randint(50, 3000),
                        "tax_ids": [(6, 0, [])], "account_id": cls.company_data["default_account_revenue"].id,
                    })],
                })
                refund.action_post()
            if rng.random() < 0.3:  # a payment from a bank statement, not matched
                payment = cls.env["account.payment"].create({
                    "payment_type": "inbound", "partner_type": "customer", "partner_id": customer.id,
                    "amount": rng.randint(50, 4000), "date": TODAY - timedelta(days=rng.randint(0, 20)),
                    "journal_id": cls.company_data["default_journal_bank"].id,
                })
                payment.action_post()

    def _ledger(self, customer, until=TODAY - timedelta(days=1), listed=None):
        """(debt due by ``until``, unapplied credits) in company currency, and {currency: [due, credits]}
        in the documents' currencies, from the open receivable journal items themselves. A late
        reminder is about what is due by yesterday, a courtesy reminder also about what falls due soon."""
        lines = self.env["account.move.line"].search([
            ("partner_id", "child_of", customer.id), ("company_id", "=", self.company.id),
            ("parent_state", "=", "posted"), ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
        ])
        due = credits = 0.0
        per_currency = defaultdict(lambda: [0.0, 0.0])
        for line in lines:
            if line.amount_residual > 0 and (
                    (line.move_id.id, line.date_maturity) in listed if listed is not None
                    else line.date_maturity and line.date_maturity <= until):
                due += line.amount_residual
                per_currency[line.currency_id][0] += line.amount_residual_currency
            elif line.amount_residual < 0:
                credits += -line.amount_residual
                per_currency[line.currency_id][1] += -line.amount_residual_currency
        return due, credits, per_currency

    def test_reminders_ask_for_what_the_ledger_says(self):
        decisions = self.customers._collections_decide(self.company, TODAY)
        levels, listed = {}, {}
        for customer in self.customers:
            _policy, decision = decisions[customer.id]
            if decision.status != "action":
                continue
            level = levels[customer] = self.env["collections.level"].browse(decision.level_id)
            # what the reminder is about: what is late for its level (and, as the engine's rule says, an
            # item whose courtesy reminder is due today goes in the same communication)
            listed[customer] = {(move_id, TODAY - timedelta(days=late)) for move_id, late in decision.listed_items}
            due, credits, _per_currency = self._ledger(customer, listed=listed[customer])
            late, _credits, _per_currency = self._ledger(customer, self.env["collections.ledger"]._lines_until(level))
            with self.subTest(customer=customer.name, level=level.name, due=due, credits=credits):
                self.assertGreater(due - credits, 0.005, "a reminder for what the credits cover")
                self.assertAlmostEqual(float(decision.net_to_pay), due - credits, places=2)
                self.assertLessEqual(late - 0.005, due, "everything late for the level is listed")
        with self.mock_mail_gateway():
            self._run()
        reminded = covered = 0
        for customer in self.customers:
            late, credits, _per_currency = self._ledger(customer)
            emails = self._actions(customer, channel="email")
            with self.subTest(customer=customer.name, late=late, credits=credits):
                if customer not in levels:
                    covered += float_compare(late - credits, 0, precision_digits=2) <= 0
                    self.assertFalse(emails, "reminded although the decision said nothing is due")
                    continue
                reminded += 1
                self.assertEqual(emails.level_id, levels[customer])
                self.assertAlmostEqual(emails.amount_overdue, max(late - credits, 0.0), places=2)
                # the reminder's table, per currency, against the ledger's items in that currency
                _due, _credits, per_currency = self._ledger(customer, listed=listed[customer])
                Ledger = self.env["collections.ledger"]
                lines = Ledger._reminder_rows(customer, self.company, move_ids=emails.move_ids.ids,
                                              items=listed[customer])
                totals = {currency: net for currency, net, _overdue, _credits in Ledger._totals(lines)}
                for currency, (due_cur, credit_cur) in per_currency.items():
                    self.assertAlmostEqual(totals.get(currency, 0.0), due_cur - credit_cur, places=2,
                                           msg=f"net to pay in {currency.name}")
        _logger.info("ledger property (seed %s): %s customers, %s reminded, %s covered by their credits",
                     SEED, len(self.customers), reminded, covered)
        # the book reaches both sides of the rule
        self.assertGreater(reminded, 3)
        self.assertGreater(covered, 1)
