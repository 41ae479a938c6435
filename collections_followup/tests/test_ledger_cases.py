"""The ledger issue's cases, through Odoo's own documents: each disagreed with Odoo before, each is a regression test.

Money that reaches the receivable by other roads than a payment matched with an invoice: a bank statement line
booked straight to the receivable, a journal entry (money on account, an opening balance), a branch's invoice paid
into the parent's bank, an exchange difference; and money seen in the bank but not booked at all."""
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestLedgerCases(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.company_data["default_journal_bank"]
        cls.receivable = cls.company_data["default_account_receivable"]

    def _statement_line(self, amount, ref="", partner=None, to_receivable=True, when=TODAY):
        values = {"journal_id": self.bank.id, "partner_id": (partner or self.customer).id, "amount": amount,
                  "date": when, "payment_ref": ref}
        if to_receivable:
            values["counterpart_account_id"] = self.receivable.id
        return self.env["account.bank.statement.line"].create(values)

    def _entry(self, balance, partner=None):
        entry = self.env["account.move"].create({
            "move_type": "entry", "date": TODAY - timedelta(days=5),
            "journal_id": self.company_data["default_journal_misc"].id, "line_ids": [
                Command.create({"name": "Money on account", "account_id": self.receivable.id,
                                "partner_id": (partner or self.customer).id, "balance": balance}),
                Command.create({"name": "Money on account", "account_id":
                                self.company_data["default_account_expense"].id, "balance": -balance}),
            ]})
        entry.action_post()
        return entry

    def _figures(self, partner=None):
        """(Odoo's balance, our total due, our net overdue on the form, the worklist's, the dashboard's)."""
        partner = (partner or self.customer).with_company(self.company)
        partner.invalidate_recordset()
        as_collector = partner.with_user(self.collector)
        worklist = self.env["collections.worklist"].with_user(self.collector).search(
            [("partner_id", "=", partner.id)]).amount_overdue
        dashboard = {row["id"]: row["overdue"] for row in self.env["collections.dashboard"]._top_customers(
            self.company, TODAY)}.get(partner.id, 0.0)
        return (partner.credit, as_collector.collections_total_due, as_collector.collections_total_overdue,
                worklist, dashboard)

    def test_a_statement_line_booked_to_the_receivable_pays(self):
        self._invoice(self.customer, 1000.0, 30)
        line = self._statement_line(1000.0, "Acme payment")
        self.assertTrue(line.move_id.line_ids.filtered(lambda item: item.account_id == self.receivable).no_followup,
                        "Odoo marks it no follow-up: we must count it all the same")
        self.assertEqual(self._figures(), (0.0, 0.0, 0.0, 0.0, 0.0))
        with self.mock_mail_gateway():
            self._run()
        self.assertFalse(self._actions(self.customer, channel="email"))

    def test_money_on_account_from_a_journal_entry_counts(self):
        self._invoice(self.customer, 1000.0, 30)
        self._entry(-400.0)
        self.assertEqual(self._figures(), (600.0, 600.0, 600.0, 600.0, 600.0))
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(self._actions(self.customer, channel="email").amount_overdue, 600.0)

    def test_a_log_entry_without_figures_of_its_own_says_what_the_customer_owed(self):
        """A postponement, a deferral: the entry's Total Due and Amount Overdue are the form's figures of that
        moment (they read 0.00); a deferral's own amount is its invoice's."""
        late = self._invoice(self.customer, 1000.0, 30)
        self._invoice(self.customer, 500.0, -10)
        self._entry(-400.0)
        _odoo, due, overdue, _worklist, _dashboard = self._figures()
        self.assertEqual((due, overdue), (1100.0, 600.0))
        self.env["collections.postpone.wizard"].with_user(self.collector).with_context(
            active_model="res.partner", active_ids=self.customer.ids,
        ).create({"date": TODAY + timedelta(days=5), "reason": "Away"}).action_postpone()
        postponed = self._actions(self.customer, channel="postpone")
        self.assertEqual((postponed.amount_due, postponed.amount_overdue, postponed.amount), (1100.0, 600.0, 0.0))
        self.env["collections.defer.wizard"].with_user(self.collector).create({
            "move_ids": [Command.set(late.ids)], "date": TODAY + timedelta(days=20), "reason": "Goods returned",
        }).action_apply()
        deferred = self._actions(self.customer, channel="defer")
        _odoo, due, overdue, _worklist, _dashboard = self._figures()
        self.assertEqual((deferred.amount_due, deferred.amount_overdue), (due, overdue))
        self.assertEqual((deferred.amount_due, deferred.amount), (1100.0, 1000.0))

    def test_a_customer_whose_credits_cover_its_overdue_is_not_dunned(self):
        """Deco Addict: unapplied credits larger than its overdue invoices; one figure everywhere: nothing."""
        self._invoice(self.customer, 9000.0, 40)
        self._invoice(self.customer, 2000.0, -10)  # not yet due
        self._statement_line(9500.0, "Deco payment on account")
        balance, due, *overdue = self._figures()
        self.assertEqual((balance, due), (1500.0, 1500.0))
        self.assertEqual(overdue, [0.0, 0.0, 0.0])
        with self.mock_mail_gateway():
            self._run()
        self.assertFalse(self._actions(self.customer, channel="email"))

    def test_a_foreign_invoice_and_payment_left_unmatched_at_two_rates_owe_nothing(self):
        """1,000 EUR invoiced at 2 EUR per dollar (500), 1,000 EUR received at 2.5 (400), not matched: Odoo's
        balance is 100, what matching books as an exchange difference. The customer owes nothing in euros: it is
        neither chased (no reminder, no fee on it) nor offered as a credit; matched, everything is 0."""
        euro = self.setup_other_currency("EUR", rates=[(str(TODAY - timedelta(days=200)), 2.0),
                                                       (str(TODAY - timedelta(days=10)), 2.5)])
        invoice = self._invoice(self.customer, 1000.0, 30, currency=euro)
        self.assertEqual(invoice.amount_residual_signed, 500.0)
        payment = self.env["account.payment"].create({
            "payment_type": "inbound", "partner_type": "customer", "partner_id": self.customer.id,
            "amount": 1000.0, "currency_id": euro.id, "date": TODAY, "journal_id": self.bank.id,
        })
        payment.action_post()
        self.assertEqual(self._figures(), (100.0, 100.0, 0.0, 0.0, 0.0))
        rows = self.env["collections.ledger"]._rows(self.customer, self.company, TODAY)
        self.assertEqual([row["exchange"] for row in rows], [True, True])
        self.assertFalse(self.env["collections.ledger"]._reminder_rows(self.customer, self.company))
        self.assertFalse(self.customer._collections_credit_matches(self.company, TODAY), "no credit to apply")
        self.policy.with_user(self.manager).fee_product_id = self.env["product.product"].create({
            "name": "Late payment charges", "type": "service", "taxes_id": [Command.clear()]})
        self.policy.level_ids.with_user(self.manager).write({"fee_type": "fixed", "fee_fixed": 25.0})
        with self.mock_mail_gateway():
            self._run()
        self.assertFalse(self._actions(self.customer, channel="email"))
        self.assertFalse(self.env["account.move"].search([("partner_id", "=", self.customer.id),
                                                          ("collections_fee_source", "=", True)]))
        # A second euro invoice: the euros owed are 300 again, chased.
        self._invoice(self.customer, 300.0, 20, currency=euro)
        self.assertGreater(self._figures()[2], 0.0)
        # Matched, Odoo books the exchange difference: nothing owed anywhere.
        (invoice.line_ids | payment.move_id.line_ids).filtered(
            lambda item: item.account_id.account_type == "asset_receivable").reconcile()
        self.assertEqual(invoice.payment_state, "paid")

    def test_a_held_customer_who_pays_is_released(self):
        self._invoice(self.customer, 1000.0, 60)
        self.customer.sudo()._collections_set_hold("Level reached", "level", self.company)
        self._statement_line(1000.0, "settled")
        changes = self.env["res.partner"]._collections_hold_changes(self.company, TODAY)
        self.assertIn((self.customer, "release"), [(partner, change) for partner, change, _why in changes])

    def test_a_branch_invoice_paid_into_the_parents_bank_is_paid(self):
        self.company.write({"child_ids": [Command.create({"name": "Branch South"})]})
        self.cr.precommit.run()
        branch = self.company.child_ids
        self.collector.write({"company_ids": [Command.link(branch.id)]})
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id, "company_id": branch.id,
            "invoice_date": TODAY - timedelta(days=60), "invoice_date_due": TODAY - timedelta(days=30),
            "invoice_line_ids": [Command.create({"name": "Goods", "quantity": 1, "price_unit": 1000.0,
                                                 "tax_ids": []})],
        })
        invoice.action_post()
        self.assertEqual(self._figures(), (1000.0, 1000.0, 1000.0, 1000.0, 1000.0), "the branch's debt is followed")
        self._pay(invoice, 1000.0)  # from the root's bank journal
        self.assertEqual(self._figures(), (0.0, 0.0, 0.0, 0.0, 0.0))
        # A payment booked in the root, not matched, covers the branch's invoice too.
        other = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id, "company_id": branch.id,
            "invoice_date": TODAY - timedelta(days=60), "invoice_date_due": TODAY - timedelta(days=30),
            "invoice_line_ids": [Command.create({"name": "Goods", "quantity": 1, "price_unit": 700.0,
                                                 "tax_ids": []})],
        })
        other.action_post()
        self._statement_line(700.0, "branch invoice")
        self.assertEqual(self._figures(), (0.0, 0.0, 0.0, 0.0, 0.0))


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestPaymentsSeen(CollectionsCommon):
    """Money in the bank not matched yet: its invoices are not reminded, the why says so, an accountant is asked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.company_data["default_journal_bank"]
        cls.accountant = cls.env["res.users"].create({
            "name": "Ada Accountant", "login": "ada_accountant", "email": "ada@company.example.com",
            "company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)],
            "group_ids": [Command.set(cls.env.ref("account.group_account_manager").ids)],
        })
        cls.first = cls._invoice(cls.customer, 1000.0, 30)
        cls.second = cls._invoice(cls.customer, 600.0, 20)

    def _on_suspense(self, amount, ref, partner=None):
        return self.env["account.bank.statement.line"].create({
            "journal_id": self.bank.id, "partner_id": partner.id if partner else False, "amount": amount,
            "date": TODAY - timedelta(days=1), "payment_ref": ref,
        })

    def _reminded(self):
        with self.mock_mail_gateway():
            self._run()
        return self._actions(self.customer, channel="email")

    def test_a_line_naming_an_invoice_pauses_it_and_asks_an_accountant(self):
        line = self._on_suspense(1000.0, f"Payment {self.first.name} thank you")  # no partner on the line
        seen = self.env["collections.ledger"]._payments_seen(self.company)
        self.assertEqual([(s.record_id, list(s.move_ids)) for s in seen], [(line.id, self.first.ids)])
        entry = self._reminded()
        self.assertEqual(entry.move_ids, self.second, "the other invoice is reminded, the one paid is not")
        # the why of the paused invoice, in a sentence
        sentences = [s["text"] for s in self.env["collections.why"]._sentences(
            self.customer.with_company(self.company).with_user(self.collector)._collections_why_data()[
                self.customer.id],
            self.company.currency_id)]
        self.assertTrue(any("payment seen on 2026-03-30" in text and "waiting to be matched" in text
                            for text in sentences), sentences)
        task = self.customer.activity_ids.filtered(lambda a: "Match the payment seen" in (a.summary or ""))
        self.assertEqual(task.user_id, self.accountant)
        self.assertIn(self.first.name, str(task.note))
        # Once: a second run the same day, or the next, asks nothing more; nor once the accountant marked the task
        # done without matching (the invoice stays paused, the why says so).
        Ledger = self.env["collections.ledger"]
        self.assertEqual(Ledger._ask_to_match_payments_seen(self.company), 0)
        task.action_feedback("Looked at it")
        self.assertFalse(self.customer.activity_ids.filtered(lambda a: "Match the payment seen" in (a.summary or "")))
        self.assertEqual(Ledger._ask_to_match_payments_seen(self.company), 0)
        self.assertFalse(self.customer.activity_ids.filtered(lambda a: "Match the payment seen" in (a.summary or "")))

    def test_a_label_names_an_invoice_by_a_word_of_it_number_or_payment_reference(self):
        """Without a customer on the line, a word of its label is an invoice's number (as written or in capitals,
        a final full stop dropped), or a few words in a row its payment reference (spaces aside); a number inside a
        longer word names nothing."""
        self.second.payment_reference = "RF18 5390 0754 7034"  # Odoo's creditor reference, written in groups
        self.first.payment_reference = "+++090/9337/55493+++"
        Ledger = self.env["collections.ledger"]
        for label, paid in ((f"paid {self.first.name.lower()}.", self.first), (f"({self.second.name})", self.second),
                            ("transfer +++090/9337/55493+++", self.first), ("Ref: RF18 5390 0754 7034, thanks",
                                                                           self.second),
                            ("rf18539007547034", self.second), (f"{self.first.name}-{self.second.name}", None),
                            ("RF18", None), ("5390 0754", None)):
            line = self._on_suspense(50.0, label)
            self.assertEqual([list(seen.move_ids) for seen in Ledger._payments_seen(self.company)],
                             [paid.ids] if paid else [], label)
            line.unlink()

    def test_matched_partly_the_rest_is_chased_and_a_reversed_line_resumes(self):
        line = self._on_suspense(400.0, "on account", partner=self.customer)
        # A line from the customer naming no invoice pays the oldest first, as far as it goes: the first, in part.
        self.assertEqual(list(self.env["collections.ledger"]._payments_seen(self.company)[0].move_ids), self.first.ids)
        entry = self._reminded()
        self.assertEqual(entry.move_ids, self.second)
        # Matched (the accountant's job): the first invoice is partly paid, the rest chased again.
        receivable = self.company_data["default_account_receivable"]
        suspense = line.move_id.line_ids.filtered(lambda item: item.account_id == self.bank.suspense_account_id)
        line.move_id.button_draft()
        suspense.write({"account_id": receivable.id, "partner_id": self.customer.id})
        line.move_id.action_post()
        (line.move_id.line_ids | self.first.line_ids).filtered(
            lambda item: item.account_id == receivable and not item.reconciled).reconcile()
        self.assertFalse(self.env["collections.ledger"]._payments_seen(self.company))
        self.assertEqual(self.first.amount_residual, 600.0)
        self.assertFalse(self.env["collections.ledger"]._pause_rows(self.company, set(self.first.ids)))
        # Another line, then reversed (deleted): follow-up of the invoice it named resumes.
        other = self._on_suspense(600.0, self.second.name)
        self.assertEqual(list(self.env["collections.ledger"]._payments_seen(self.company)[0].move_ids), self.second.ids)
        other.unlink()
        self.assertFalse(self.env["collections.ledger"]._payments_seen(self.company))

    def test_an_online_payment_not_posted_yet_pauses_its_invoices(self):
        provider = self.env["payment.provider"].sudo().create(
            {"name": "Bank transfer (test)", "code": "none", "state": "test", "company_id": self.company.id})
        method = self.env["payment.method"].sudo().with_context(active_test=False).search([], limit=1)
        self.env["payment.transaction"].sudo().create({
            "provider_id": provider.id, "payment_method_id": method.id, "amount": 600.0,
            "currency_id": self.company.currency_id.id, "partner_id": self.customer.id, "reference": "TX-SEEN-1",
            "state": "pending", "invoice_ids": [Command.set(self.second.ids)],
        })
        seen = self.env["collections.ledger"]._payments_seen(self.company)
        self.assertEqual([(s.kind, list(s.move_ids)) for s in seen], [("transaction", self.second.ids)])
        self.assertEqual(self._reminded().move_ids, self.first)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCreditsCoverTheOverdue(CollectionsCommon):
    """Deco Addict: its credits cover what it owes late. Not dunned; the run says why, an accountant applies them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls.env["res.users"].create({
            "name": "Ada Accountant", "login": "ada_credits", "company_id": cls.company.id,
            "company_ids": [Command.set(cls.company.ids)],
            "group_ids": [Command.set(cls.env.ref("account.group_account_manager").ids)],
        })
        cls.old = cls._invoice(cls.customer, 700.0, 60)
        cls.recent = cls._invoice(cls.customer, 300.0, 10)
        cls.not_due = cls._invoice(cls.customer, 900.0, -20)
        cls.refund = cls.env["account.move"].create({
            "move_type": "out_refund", "partner_id": cls.customer.id, "invoice_date": TODAY - timedelta(days=5),
            "invoice_line_ids": [Command.create({"name": "Returned", "quantity": 1, "price_unit": 400.0,
                                                 "tax_ids": []})],
        })
        cls.refund.action_post()
        cls.env["account.bank.statement.line"].create({
            "journal_id": cls.company_data["default_journal_bank"].id, "partner_id": cls.customer.id,
            "amount": 650.0, "date": TODAY - timedelta(days=2), "payment_ref": "on account",
            "counterpart_account_id": cls.company_data["default_account_receivable"].id,
        })

    def test_not_dunned_the_accountant_is_asked_and_applies_them_in_one_click(self):
        with self.mock_mail_gateway():
            self._run()
        self.assertFalse(self._actions(self.customer, channel="email"))
        review = self._actions(self.customer, channel="review")
        self.assertIn("unapplied credits cover everything overdue", review.note)
        # The entry's figures are the customer's: 1,900 invoiced less 1,050 of credits owed in all (Odoo's
        # balance), nothing overdue net of them (it read 0.00 due: the entry was logged without its amounts).
        self.assertAlmostEqual(review.amount_due, self.customer.with_company(self.company).credit)
        self.assertAlmostEqual(review.amount_due, 850.0)
        self.assertEqual(review.amount_overdue, 0.0)
        task = self.customer.activity_ids.filtered(lambda a: "Apply the credits" in (a.summary or ""))
        self.assertEqual(task.user_id, self.accountant)
        # the proposal: oldest credit (the credit note) against the oldest invoice, then the statement line
        self.assertIn(f"{self.refund.name} against {self.old.name}", str(task.note))
        # Once while the task is open.
        self.env["res.partner"]._collections_ask_to_apply_credits(self.company, TODAY)
        self.assertEqual(len(self._actions(self.customer, channel="review")), 1)
        # A salesperson cannot apply them; a billing user can.
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).action_collections_apply_credits()
        self.customer.with_user(self.billing).action_collections_apply_credits()
        self.assertEqual((self.old.payment_state, self.recent.payment_state), ("paid", "paid"))
        self.assertEqual(self.not_due.payment_state, "not_paid")
        # 700 + 300 overdue paid by 400 + 650: 50 of credit left, the invoice not yet due untouched.
        self.assertAlmostEqual(self.customer.with_company(self.company).credit, 850.0)
