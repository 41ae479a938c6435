"""What the reminders ask for equals what the ledger says is owed: unapplied credits count.

Each case failed before this change (the reminder asked for the gross overdue amount,
or a customer whose credits covered its overdue invoices was reminded)."""
import io
import re
from datetime import timedelta

import openpyxl

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from ..models.res_partner_contacts import Collector
from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestLedgerNetPosition(CollectionsCommon):

    def _credit_note(self, partner, amount, days_ago=5):
        refund = self.env["account.move"].create({
            "move_type": "out_refund",
            "partner_id": partner.id,
            "journal_id": self.company_data["default_journal_sale"].id,
            "invoice_date": TODAY - timedelta(days=days_ago),
            "invoice_line_ids": [(0, 0, {
                "name": "Returned goods", "quantity": 1, "price_unit": amount, "tax_ids": [(6, 0, [])],
                "account_id": self.company_data["default_account_revenue"].id,
            })],
        })
        refund.action_post()
        return refund

    def _unmatched_payment(self, partner, amount, days_ago=3):
        """A customer payment posted on its own (from a bank statement), not matched to an invoice."""
        payment = self.env["account.payment"].create({
            "payment_type": "inbound", "partner_type": "customer", "partner_id": partner.id,
            "amount": amount, "date": TODAY - timedelta(days=days_ago),
            "journal_id": self.company_data["default_journal_bank"].id,
        })
        payment.action_post()
        return payment

    def test_unapplied_credit_note_is_deducted_from_the_reminder(self):
        invoice = self._invoice(self.customer, 1000.0, 30)
        refund = self._credit_note(self.customer, 300.0)
        partner = self.customer.with_user(self.collector)
        self.assertEqual(partner.collections_total_overdue, 700.0)
        self.assertEqual(partner.collections_total_credits, 300.0)
        with self.mock_mail_gateway():
            self._run()
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(invoice.name, body)
        self.assertIn(refund.name, body)
        self.assertIn("credit not yet applied", body)
        self.assertIn("Net to pay, after your credits", body)
        self.assertIn("700.00", body)
        self.assertNotIn("Total due", body)
        email = self._actions(self.customer, channel="email")
        self.assertEqual(email.amount_due, 700.0)

    def test_credits_covering_the_overdue_invoices_stop_the_reminders(self):
        """1,000 overdue, 500 not yet due, a 1,000 payment not matched yet: nothing is late net."""
        self._invoice(self.customer, 1000.0, 30)
        self._invoice(self.customer, 500.0, -20)
        self._unmatched_payment(self.customer, 1000.0)
        with self.mock_mail_gateway():
            self._run()
        self.assertFalse(self._mails_to(self.customer))
        self.assertFalse(self._actions(self.customer, channel="email"))
        self.assertEqual(self.customer.with_user(self.collector).collections_total_overdue, 0.0)

    def test_percentage_fee_is_charged_on_what_is_owed_net_of_credits(self):
        product = self.env["product.product"].create({"name": "Late charges", "type": "service",
                                                      "taxes_id": [(6, 0, [])]})
        self.policy.with_user(self.manager).fee_product_id = product
        self.level_first.with_user(self.manager).write({"fee_type": "percent", "fee_percent": 10.0})
        self._invoice(self.customer, 1000.0, 10)
        self._unmatched_payment(self.customer, 400.0)
        self._run()
        fee = self.env["collections.fee"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(fee.amount, 60.0, "10 % of the 600 still owed, not of 1,000")


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestOneCollector(CollectionsCommon):
    """Who collects a customer is decided once (res.partner._collections_collectors): before, a customer
    without a collector of its own counted as its policy's collector in My Collections and the run,
    and as "No collector" on the dashboard and in the aging report."""

    def test_the_policys_collector_on_every_screen(self):
        customer = self._customer("Northwind Traders", "ap@northwind.example.com")
        self._invoice(customer, 2000.0, 40)
        self.policy.with_user(self.manager).user_id = self.manager
        self.assertEqual(customer._collections_collectors(self.company)[customer.id],
                         Collector(self.manager.id, "policy"))
        dashboard = self.env["collections.dashboard"].with_user(self.collector)._top_customers(self.company, TODAY)
        self.assertEqual(next(row for row in dashboard if row["id"] == customer.id)["collector"], self.manager.name)
        aging = self.env["collections.aging.report"].with_user(self.collector).search(
            [("partner_id", "=", customer.id)])
        self.assertEqual(aging.collector_id, self.manager)
        worklist = self.env["collections.worklist"].with_user(self.collector).search(
            [("partner_id", "=", customer.id)])
        self.assertEqual(worklist.user_id, self.manager)
        # the customer's own collector wins everywhere
        customer.with_user(self.collector).with_company(self.company).collections_user_id = self.collector
        self.assertEqual(customer._collections_collectors(self.company)[customer.id],
                         Collector(self.collector.id, "customer"))
        self.env["collections.aging.report"].invalidate_model()
        self.assertEqual(self.env["collections.aging.report"].search([("partner_id", "=", customer.id)]).collector_id,
                         self.collector)


class InstalmentCommon(CollectionsCommon):
    """A 30 % / 70 % payment term and invoices on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term = cls.env["account.payment.term"].create({
            "name": "30 % now, 70 % in 60 days",
            "line_ids": [
                (0, 0, {"value": "percent", "value_amount": 30.0, "nb_days": 0}),
                (0, 0, {"value": "percent", "value_amount": 70.0, "nb_days": 60}),
            ],
        })

    def _instalment_invoice(self, amount, invoice_date):
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "journal_id": self.company_data["default_journal_sale"].id,
            "invoice_date": invoice_date, "invoice_payment_term_id": self.term.id,
            "invoice_line_ids": [(0, 0, {
                "name": "Machine", "quantity": 1, "price_unit": amount, "tax_ids": [(6, 0, [])],
                "account_id": self.company_data["default_account_revenue"].id,
            })],
        })
        move.action_post()
        return move


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestInstalments(InstalmentCommon):
    """An invoice on a 30 % / 70 % payment term: each instalment has its own due date and amount.

    Before: the run took the earliest due date and the whole residual (1,000 counted overdue when 300
    was), while the reminder showed the last instalment's due date ("not yet due")."""

    def test_only_the_late_instalment_is_reminded_with_its_own_due_date(self):
        invoice = self._instalment_invoice(1000.0, TODAY - timedelta(days=20))  # 300 20 days late, 700 in 40
        partner = self.customer.with_user(self.collector)
        self.assertEqual(partner.collections_total_overdue, 300.0)
        self.assertEqual(partner.collections_oldest_days_late, 20)
        with self.mock_mail_gateway():
            self._run()
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(f"{invoice.name}, instalment 1 of 2", body)
        self.assertNotIn("instalment 2 of 2", body, "not yet due: not in a reminder about late payments")
        self.assertIn("300.00", body)
        self.assertNotIn("1,000.00", body.split("Total due")[-1])
        self.assertEqual(self._actions(self.customer, channel="email").amount_overdue, 300.0)
        # the full statement-style table (no level) lists both instalments, each with its due date
        lines = self.env["collections.ledger"]._reminder_rows(self.customer, self.company)
        self.assertEqual([(line["due"], line["residual"]) for line in lines],
                         [(TODAY - timedelta(days=20), 300.0), (TODAY + timedelta(days=40), 700.0)])

    def test_interest_runs_per_instalment_from_its_own_due_date(self):
        product = self.env["product.product"].create({"name": "Late charges", "type": "service",
                                                      "taxes_id": [(6, 0, [])]})
        self.policy.with_user(self.manager).write({"fee_product_id": product.id, "interest_margin": 0.0})
        self.env["collections.interest.rate"].with_user(self.manager).create(
            {"date_from": "2025-01-01", "rate": 10.0, "company_id": self.company.id})
        self.level_first.with_user(self.manager).write({"fee_type": "interest"})
        # invoiced 100 days ago: 300 due 100 days ago, 700 due 40 days ago
        self._instalment_invoice(1000.0, TODAY - timedelta(days=100))
        self._run()
        fee = self.env["collections.fee"].search([("partner_id", "=", self.customer.id)])
        # 10 % a year: 300 x 100 days + 700 x 40 days (not 1,000 x 100 days = 27.40)
        expected = round(300 * 0.10 * 100 / 365, 2) + round(700 * 0.10 * 40 / 365, 2)
        self.assertAlmostEqual(fee.interest, expected, places=2)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestStatement(CollectionsCommon):
    """The statement comes from the journal items and their reconciliations: a payment matched from a
    bank statement line is on it (before: only account.payment records were read), with a running
    balance, in the customer's currency when it is invoiced in one, and as XLSX."""

    def _bank_line_matched_with(self, invoice, amount, when):
        """A bank statement line of the customer reconciled with the invoice, as a bank reconciliation
        leaves it: the statement line's counterpart on the receivable, matched with the invoice."""
        st_line = self.env["account.bank.statement.line"].create({
            "journal_id": self.company_data["default_journal_bank"].id, "date": when, "amount": amount,
            "partner_id": self.customer.id, "payment_ref": "Transfer from Acme",
        })
        bank_account = st_line.journal_id.default_account_id
        counterpart = st_line.move_id.line_ids.filtered(lambda line: line.account_id != bank_account)
        st_line.move_id.button_draft()
        counterpart.write({"account_id": self.company_data["default_account_receivable"].id,
                           "partner_id": self.customer.id})
        st_line.move_id.action_post()
        receivable = invoice.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        paid = st_line.move_id.line_ids.filtered(lambda line: line.account_id == receivable.account_id)
        (receivable | paid).reconcile()
        return st_line

    def test_bank_reconciliation_is_on_the_statement_with_a_running_balance(self):
        invoice = self._invoice(self.customer, 1000.0, 40)  # invoiced 70 days ago
        self._bank_line_matched_with(invoice, 400.0, TODAY - timedelta(days=10))
        self.assertEqual(invoice.amount_residual, 600.0)
        data = self.customer.with_user(self.collector)._collections_statement_data(self.company, TODAY)
        [activity] = data["activity"]
        [section] = data["sections"]
        self.assertEqual(activity["opening"], 0.0)
        rows = [(row["kind"], row["debit"], row["credit"], row["balance"]) for row in activity["rows"]]
        self.assertEqual(rows, [("Invoice", 1000.0, 0.0, 1000.0), ("Payment", 0.0, 400.0, 600.0)])
        self.assertIn(invoice.name, activity["rows"][1]["matched"])
        self.assertEqual(activity["closing"], section["total"], "the running balance ends on what is open")

    def test_the_running_balance_ends_on_what_is_open_with_entries_dated_after_today(self):
        """A credit note already posted but dated next week is open (Odoo's balance counts it): the activity
        shows it too, so that the running balance ends on the open items (it stopped at today, and then fell
        back to the company's currency without ending on them either)."""
        self._invoice(self.customer, 1000.0, 40)
        refund = self.env["account.move"].create({
            "move_type": "out_refund", "partner_id": self.customer.id, "invoice_date": TODAY + timedelta(days=5),
            "invoice_line_ids": [(0, 0, {"name": "Rebate", "quantity": 1, "price_unit": 300.0, "tax_ids": []})],
        })
        refund.action_post()
        self.assertEqual(refund.date, TODAY + timedelta(days=5))
        data = self.customer.with_user(self.collector)._collections_statement_data(self.company, TODAY)
        [activity], [section] = data["activity"], data["sections"]
        self.assertEqual(section["total"], 700.0)
        self.assertEqual([(row["date"], row["balance"]) for row in activity["rows"]],
                         [(TODAY - timedelta(days=70), 1000.0), (TODAY + timedelta(days=5), 700.0)])
        self.assertEqual(activity["closing"], section["total"])
        self.assertAlmostEqual(activity["closing"], self.customer.with_company(self.company).credit, places=2)

    def test_statement_in_the_customers_currency_and_as_xlsx(self):
        euro = self.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        invoice = self._invoice(self.customer, 500.0, 20, currency=euro)
        self._pay(invoice, 100.0)
        [activity] = self.customer._collections_statement_data(self.company, TODAY)["activity"]
        self.assertEqual(activity["currency"], euro)
        self.assertEqual(activity["closing"], 400.0, "in euros, as invoiced")
        action = self.customer.with_user(self.collector).action_collections_statement_xlsx()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[-1].split("?")[0]))
        book = openpyxl.load_workbook(io.BytesIO(attachment.raw))
        sheet = book.worksheets[1]
        self.assertEqual(sheet.cell(row=sheet.max_row, column=8).value, 400.0)
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).action_collections_statement_xlsx()


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestInstalmentLevels(InstalmentCommon):
    """Each instalment climbs the levels on its own. Before: the level was the invoice's, so a second
    instalment falling due after the first had reached the second reminder got the final notice as
    its very first reminder."""

    def _receivables(self, invoice):
        return invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable").sorted("date_maturity")

    def test_a_later_instalment_starts_at_the_first_level(self):
        invoice = self._instalment_invoice(1000.0, TODAY - timedelta(days=100))  # 300 due 100 days ago, 700 40
        first, second = self._receivables(invoice)
        Ledger = self.env["collections.ledger"]
        Ledger._set_levels({first.id: (self.level_second.id, TODAY - timedelta(days=50))})
        self.assertEqual(invoice.collections_level_id, self.level_second, "the invoice shows its highest level")
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(first.collections_level_id, self.level_final, "second reminder 50 days ago: final notice")
        self.assertEqual(second.collections_level_id, self.level_first,
                         "its first reminder, although the invoice's other instalment is further")
        self.assertEqual((first | second).mapped("collections_last_reminder_date"), [TODAY, TODAY])
        self.assertEqual(invoice.collections_level_id, self.level_final)
        self.assertEqual(invoice.collections_reminder_count, 1, "one reminder about the invoice")
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(f"{invoice.name}, instalment 1 of 2", body)
        self.assertIn(f"{invoice.name}, instalment 2 of 2", body)

    def test_undelivered_reminder_puts_each_instalment_back(self):
        invoice = self._instalment_invoice(1000.0, TODAY - timedelta(days=100))
        first, second = self._receivables(invoice)
        self.env["collections.ledger"]._set_levels({first.id: (self.level_second.id, TODAY - timedelta(days=50))})
        with self.mock_mail_gateway():
            self._run()
        reminder = self._actions(self.customer, channel="email")
        reminder._undo_reminder()
        self.assertEqual(first.collections_level_id, self.env["collections.level"],
                         "no earlier reminder in the log: back to none")
        self.assertFalse(second.collections_level_id)
        self.assertEqual(invoice.collections_reminder_count, 0)

    def test_levels_of_journal_items_are_set_by_collections_only(self):
        invoice = self._instalment_invoice(1000.0, TODAY - timedelta(days=100))
        first = self._receivables(invoice)[0]
        for user in (self.env.user, self.billing, self.collector, self.manager):
            with self.subTest(user=user.name), self.assertRaises(AccessError):
                first.with_user(user).write({"collections_level_id": self.level_final.id})
        draft = self._invoice(self.customer, 100.0, 5, post=False)
        receivable = draft.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        for user in (self.env.user, self.billing):
            with self.subTest(user=user.name, door="draft invoice"), self.assertRaises(AccessError):
                draft.with_user(user).write({"line_ids": [
                    (1, receivable.id, {"collections_last_reminder_date": TODAY})]})
        self.assertFalse(first.collections_level_id)

    def _row_versions(self, invoices):
        """PostgreSQL's version of each accounting row of these invoices (xmin: changes with any UPDATE)."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT 'move', id, xmin::text FROM account_move WHERE id = ANY(%s) UNION ALL "
            "SELECT 'line', id, xmin::text FROM account_move_line WHERE move_id = ANY(%s) ORDER BY 1, 2",
            [invoices.ids, invoices.ids])
        return self.env.cr.fetchall()

    def test_a_reminder_leaves_the_accounting_rows_untouched(self):
        """The levels are the addon's own rows (collections_item_level, collections_invoice_level): a reminder
        writes no journal item, and a reminder about invoices already sent no invoice row (before: each reminded
        item's row and its invoice's, every reminder). The first reminder of an invoice marks it sent and gives
        it its portal link (Odoo's fields, once)."""
        invoice = self._instalment_invoice(1000.0, TODAY - timedelta(days=100))
        other = self._invoice(self.customer, 400.0, 20)
        lines = self._row_versions(invoice | other)[:-2]
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(invoice.collections_reminder_count, 1, "reminded")
        self.assertEqual(self._row_versions(invoice | other)[:-2], lines, "no journal item written")
        before = self._row_versions(invoice | other)
        later = TODAY + timedelta(days=30)
        with freeze_time(later), self.mock_mail_gateway():
            self._run(today=later)
        self.assertEqual((invoice | other).mapped("collections_reminder_count"), [2, 2], "reminded again")
        self.assertEqual(self._row_versions(invoice | other), before, "no accounting row written")

    def test_the_invoice_lists_search_and_group_by_the_level_as_billing_users_read_them(self):
        """Searched, grouped by and sorted in the invoice lists as before the levels left the invoice's row."""
        invoice = self._instalment_invoice(1000.0, TODAY - timedelta(days=100))
        reminded = self._invoice(self.customer, 400.0, 20)
        never = self._invoice(self.customer, 300.0, 2)
        Ledger = self.env["collections.ledger"]
        Ledger._set_levels({self._receivables(invoice)[0].id: (self.level_second.id, TODAY - timedelta(days=9))},
                           reminder_count=1)
        Ledger._set_levels({self._receivables(reminded).id: (self.level_first.id, TODAY)}, reminder_count=1)
        Ledger._set_levels({self._receivables(reminded).id: (self.level_first.id, TODAY)}, reminder_count=1)
        Moves = self.env["account.move"].with_user(self.billing)
        mine = [("id", "in", (invoice | reminded | never).ids)]
        self.assertEqual(Moves.search([*mine, ("collections_level_id", "=", self.level_second.id)]), invoice)
        self.assertEqual(Moves.search([*mine, ("collections_level_id", "=", False)]), never)
        self.assertEqual(Moves.search([*mine, ("collections_level_id", "!=", False)]), invoice | reminded)
        self.assertEqual(Moves.search([*mine, ("collections_level_id.delay", ">=", self.level_second.delay)]),
                         invoice)
        self.assertEqual(Moves.search([*mine, ("collections_reminder_count", ">", 1)]), reminded)
        self.assertEqual(Moves.search([*mine, ("collections_reminder_count", "=", 0)]), never)
        self.assertEqual(Moves.search([*mine, ("collections_reminder_count", "<", 2)]), invoice | never,
                         "no reminder is fewer than two, as Odoo reads an empty number")
        self.assertEqual(Moves.search([*mine, ("collections_reminder_count", ">=", 1)]), invoice | reminded)
        self.assertEqual(Moves.search([*mine, ("collections_last_reminder_date", "<", TODAY)]), invoice)
        self.assertEqual(Moves.search([*mine, ("collections_level_id", "not in", self.level_first.ids)]),
                         invoice | never)
        # The search view's "In Follow-up" filter and "Follow-up Level" group by, as the web client sends them.
        groups = Moves.web_read_group([*mine, ("collections_level_id", "!=", False)], ["collections_level_id"],
                                      ["__count"])["groups"]
        self.assertEqual({group["collections_level_id"][0]: group["__count"] for group in groups},
                         {self.level_first.id: 1, self.level_second.id: 1})
        by_count = Moves.search(mine, order="collections_reminder_count desc, id")
        self.assertEqual(by_count[0], reminded)
        lines = self.env["account.move.line"].with_user(self.billing).search(
            [("move_id", "=", invoice.id), ("collections_level_id", "!=", False)])
        self.assertEqual(lines, self._receivables(invoice)[0], "the journal item's own level")
        # The partner's level (the highest an open invoice reached), read through the same fields.
        self.assertEqual(self.customer.with_user(self.collector).collections_level_id, self.level_second)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestStatementCurrencies(CollectionsCommon):
    """The statement per document currency: a customer invoiced in the company's currency and in
    euros gets a section per currency, each with its open items, aging, total and running balance
    (before: one section in the company's currency, euro amounts converted)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.euro = cls.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])

    def test_a_section_per_currency_each_ending_on_what_is_open(self):
        local = self._invoice(self.customer, 1000.0, 20)
        self._pay(local, 250.0)
        foreign = self._invoice(self.customer, 500.0, 10, currency=self.euro)
        self._pay(foreign, 100.0)
        data = self.customer.with_user(self.collector)._collections_statement_data(self.company, TODAY)
        sections = {section["currency"]: section for section in data["sections"]}
        self.assertEqual(set(sections), {self.company.currency_id, self.euro})
        self.assertEqual(sections[self.company.currency_id]["total"], 750.0)
        self.assertEqual(sections[self.euro]["total"], 400.0, "in euros, as invoiced (not 200 converted)")
        activity = {section["currency"]: section for section in data["activity"]}
        self.assertEqual(activity[self.company.currency_id]["closing"], 750.0)
        self.assertEqual(activity[self.euro]["closing"], 400.0)
        pdf = self.env["ir.actions.report"].with_user(self.collector)._render_qweb_html(
            "collections_followup.action_report_collections_statement", self.customer.ids)[0].decode()
        text = re.sub(r"<[^>]+>", "", pdf)
        self.assertIn("Open items (EUR)", text)
        self.assertIn(f"Open items ({self.company.currency_id.name})", text)

    def test_a_euro_invoice_paid_in_the_companys_currency_gives_one_account(self):
        foreign = self._invoice(self.customer, 500.0, 10, currency=self.euro)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=foreign.ids,
        ).create({
            "amount": 50.0, "currency_id": self.company.currency_id.id, "payment_date": TODAY,
            "payment_difference_handling": "open",
        })._create_payments()
        self.assertEqual(foreign.amount_residual, 400.0, "50 in the company's currency pays 100 euros")
        data = self.customer._collections_statement_data(self.company, TODAY)
        [section] = data["sections"]
        self.assertEqual((section["currency"], section["total"]), (self.euro, 400.0))
        [activity] = data["activity"]
        self.assertEqual(activity["currency"], self.company.currency_id,
                         "reconciled across currencies: one account, in the company's currency")
        self.assertEqual(activity["closing"], 200.0, "the 400 euros still open, at 2.0 euros to the unit")
