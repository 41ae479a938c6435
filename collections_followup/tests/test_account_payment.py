from datetime import timedelta

from lxml import html

from odoo import Command, fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.account_payment.tests.common import AccountPaymentCommon
from odoo.addons.payment.tests.http_common import PaymentHttpCommon

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
class TestPayFromTheAccountPage(AccountPaymentCommon, PaymentHttpCommon, CollectionsCommon):
    """One payment for the invoices a customer ticks on its account page (account link or portal), through
    Odoo's payment flow with Odoo's own test provider: the amount is the ledger's, the payment is reconciled
    with exactly those invoices. No freeze_time: the server runs on the real clock."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.invoice_a = cls._invoice(cls.customer, 800.0, 40)
        cls.invoice_b = cls._invoice(cls.customer, 500.0, 20)
        cls._pay(cls.invoice_b, 120.0)  # partly paid: 380.00 still due
        cls.not_due = cls._invoice(cls.customer, 300.0, (TODAY - cls.today).days - 10)  # due in 10 days
        # Two instalments: 30 % late, 70 % due in a month.
        term = cls.env["account.payment.term"].create({
            "name": "30/70", "line_ids": [
                Command.create({"value": "percent", "value_amount": 30.0, "nb_days": 0}),
                Command.create({"value": "percent", "value_amount": 70.0, "nb_days": 60}),
            ],
        })
        cls.instalments = cls.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": cls.customer.id,
            "invoice_date": cls.today - timedelta(days=30), "invoice_payment_term_id": term.id,
            "invoice_line_ids": [Command.create({"name": "Installation", "quantity": 1, "price_unit": 1000.0,
                                                 "tax_ids": []})],
        })
        cls.instalments.action_post()
        cls.euro_invoice = cls._invoice(cls.customer, 200.0, 15, currency=cls.currency_euro)
        cls.stranger = cls._customer("Stranger Ltd", "stranger@example.com")
        cls.stranger_invoice = cls._invoice(cls.stranger, 999.0, 40)
        cls.token = cls.customer._collections_link_token(cls.today + timedelta(days=30))

    def _items(self, *moves):
        return self.env["collections.ledger"]._journal_items(self.customer, self.company).filtered(
            lambda line: line.move_id in moves)

    def _pay_page(self, items, base=None):
        base = base or f"/collections/account/{self.token}"
        return self.url_open(f"{base}/pay?" + "&".join(f"item={item.id}" for item in items))

    def _transaction(self, route, amount, reference=None, refused=None):
        """The request Odoo's payment form makes (payment_form.js, with account_payment's reference): its
        processing values, or, with ``refused``, the error it answers, which must say ``refused``."""
        with mute_logger("odoo.addons.payment.models.payment_transaction", "odoo.http"):
            answer = self.url_open(route, json={"jsonrpc": "2.0", "method": "call", "id": 0, "params": {
                "provider_id": self.provider.id, "payment_method_id": self.payment_method_id, "token_id": None,
                "amount": amount, "flow": "direct", "tokenization_requested": False,
                "landing_route": "/somewhere-else", "is_validation": False, "access_token": None,
                "payment_reference": reference,
            }}).json()
        if refused:
            self.assertIn(refused, answer["error"]["data"]["message"])
            return None
        self.assertNotIn("error", answer)
        return answer["result"]

    def _context(self, page):
        self.assertEqual(page.status_code, 200)
        return self._get_payment_context(page)

    def test_the_account_page_ticks_what_is_overdue(self):
        self.authenticate(None, None)
        page = self.url_open(f"/collections/account/{self.token}")
        boxes = html.fromstring(page.text).xpath('//input[@name="item"][@form="o_collections_pay_form"]')
        ticked = {int(box.get("value")) for box in boxes if box.get("checked") is not None}
        offered = {int(box.get("value")) for box in boxes}
        late = self._items(self.invoice_a, self.invoice_b, self.euro_invoice) + self._items(self.instalments)[:1]
        self.assertEqual(ticked, set(late.ids), "overdue items ticked, not the ones not yet due")
        self.assertEqual(offered, set(self._items(self.invoice_a, self.invoice_b, self.not_due, self.instalments,
                                                  self.euro_invoice).ids))
        self.assertNotIn(str(self._items(self.stranger_invoice).id), offered)
        self.assertIn(f'action="/collections/account/{self.token}/pay"', page.text)

    def test_one_payment_for_the_ticked_invoices_through_the_link(self):
        self.authenticate(None, None)
        items = self._items(self.invoice_a, self.invoice_b)
        context = self._context(self._pay_page(items))
        self.assertEqual(context["amount"], 1180.0, "800.00 + the 380.00 left of the partly paid invoice")
        self.assertTrue(context["payment_reference"].startswith("GROUP/"), "two invoices: a batch reference")
        self.assertNotIn("does not deduct your credits", self._pay_page(items).text, "this customer has no credit")
        processing = self._transaction(context["transaction_route"], 1180.0, context["payment_reference"])
        tx = self._get_tx(processing["reference"])
        self.assertEqual(tx.reference, context["payment_reference"])
        self.assertEqual((tx.amount, tx.invoice_ids, tx.partner_id), (1180.0, self.invoice_a + self.invoice_b,
                                                                      self.customer))
        self.assertEqual(tx.landing_route, f"/collections/account/{self.token}?message=payment_ok",
                         "the landing page is the server's, not the request's")
        tx._set_done()
        tx._post_process()
        self.assertEqual((self.invoice_a + self.invoice_b).mapped("amount_residual"), [0.0, 0.0])
        self.assertEqual(self.not_due.amount_residual, 300.0, "an invoice not ticked is left open")
        self.assertEqual(tx.payment_id.move_id.line_ids.filtered("reconciled").matched_debit_ids.debit_move_id,
                         items, "the payment is reconciled with the ticked invoices' items")

    def test_an_invoice_in_another_currency_is_paid_in_its_currency(self):
        self.authenticate(None, None)
        context = self._context(self._pay_page(self._items(self.euro_invoice)))
        self.assertEqual((context["amount"], context["currency_id"]), (200.0, self.currency_euro.id),
                         "the invoice's own currency and amount due, not the company's")
        tx = self._get_tx(self._transaction(context["transaction_route"], 200.0)["reference"])
        self.assertEqual((tx.amount, tx.currency_id), (200.0, self.currency_euro))
        tx._set_done()
        tx._post_process()
        self.assertEqual(self.euro_invoice.amount_residual, 0.0)
        self.assertFalse(self._items(self.euro_invoice), "nothing of it is left open in the ledger")

    def test_the_payment_page_says_credits_are_not_deducted(self):
        refund = self.env["account.move"].create({
            "move_type": "out_refund", "partner_id": self.customer.id,
            "invoice_line_ids": [Command.create({"name": "Returned", "quantity": 1, "price_unit": 50.0,
                                                 "tax_ids": []})],
        })
        refund.action_post()
        self.authenticate(None, None)
        page = self._pay_page(self._items(self.invoice_a))
        self.assertEqual(self._context(page)["amount"], 800.0, "the invoice's amount due, as ticked")
        self.assertIn("does not deduct your credits not yet applied", page.text)

    def test_an_instalment_brings_the_earlier_ones_of_its_invoice(self):
        self.authenticate(None, None)
        first, second = self._items(self.instalments).sorted("date_maturity")
        context = self._context(self._pay_page(second))
        self.assertEqual(context["amount"], 1000.0)
        processing = self._transaction(context["transaction_route"], 1000.0)
        tx = self._get_tx(processing["reference"])
        tx._set_done()
        tx._post_process()
        self.assertEqual(self.instalments.amount_residual, 0.0)
        self.assertTrue(first.reconciled and second.reconciled)

    def _discounted_invoice(self, amount):
        """An invoice of 3 days ago on "2 % within 10 days, net 30" (the discount still granted today)."""
        term = self.env["account.payment.term"].create({
            "name": "2/10 net 30", "early_discount": True, "discount_percentage": 2.0, "discount_days": 10,
            "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 30})],
        })
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_date": self.today - timedelta(days=3), "invoice_payment_term_id": term.id,
            "invoice_line_ids": [Command.create({"name": "Supplies", "quantity": 1, "price_unit": amount,
                                                 "tax_ids": []})],
        })
        invoice.action_post()
        return invoice

    def test_early_payment_discounts_of_several_invoices_in_one_payment(self):
        """Odoo's invoice page grants an invoice its early-payment discount; paying several at once does too, and
        the payment writes each discount off, so that each invoice is paid in full (not left open for its 2 %)."""
        first, second = self._discounted_invoice(1000.0), self._discounted_invoice(500.0)
        self.authenticate(None, None)
        items = self._items(first, second, self.invoice_a)
        page = self._pay_page(items)
        context = self._context(page)
        self.assertEqual(context["amount"], 980.0 + 490.0 + 800.0, "the overdue one in full, the others discounted")
        self.assertEqual(len(html.fromstring(page.text).xpath('//*[hasclass("o_collections_pay_discount")]')), 2)
        self._transaction(context["transaction_route"], 2300.0, refused="The amount due has changed")
        tx = self._get_tx(self._transaction(context["transaction_route"], 2270.0)["reference"])
        tx._set_done()
        tx._post_process()
        self.assertEqual((first + second + self.invoice_a).mapped("payment_state"), ["paid"] * 3)
        self.assertEqual(tx.payment_id.amount, 2270.0)
        discount = tx.payment_id.move_id.line_ids.filtered(
            lambda line: line.account_id == self.company.account_journal_early_pay_discount_loss_account_id)
        self.assertEqual(sum(discount.mapped("balance")), 30.0, "20.00 and 10.00 written off")
        self.assertFalse(self._items(first, second, self.invoice_a), "nothing left open to chase")
        # One invoice alone: Odoo's own flow grants it (the transaction's amount is its discounted amount).
        third = self._discounted_invoice(200.0)
        context = self._context(self._pay_page(self._items(third)))
        self.assertEqual(context["amount"], 196.0)
        tx = self._get_tx(self._transaction(context["transaction_route"], 196.0)["reference"])
        tx._set_done()
        tx._post_process()
        self.assertEqual(third.payment_state, "paid")

    def test_the_late_instalment_alone(self):
        self.authenticate(None, None)
        first, second = self._items(self.instalments).sorted("date_maturity")
        context = self._context(self._pay_page(first))
        self.assertEqual(context["amount"], 300.0, "30 % of 1,000.00; the instalment not due is not asked")
        tx = self._get_tx(self._transaction(context["transaction_route"], 300.0)["reference"])
        tx._set_done()
        tx._post_process()
        self.assertTrue(first.reconciled)
        self.assertEqual((second.reconciled, self.instalments.amount_residual), (False, 700.0))

    def test_what_cannot_be_paid_is_refused_with_a_reason(self):
        self.authenticate(None, None)
        base = f"/collections/account/{self.token}"
        for items, reason in (
            (self._items(self.invoice_a) + self.stranger_invoice.line_ids.filtered("date_maturity"),
             "Choose the invoices to pay among your open invoices"),
            (self.env["account.move.line"], "Choose the invoices to pay among your open invoices"),
            (self._items(self.invoice_a, self.euro_invoice), "Pay the invoices of one currency at a time"),
        ):
            with self.subTest(reason=reason, items=items.ids):
                page = self._pay_page(items)
                self.assertEqual(page.status_code, 200)
                self.assertIn(reason, page.text)
                self.assertNotIn("o_payment_form", page.text)
        self.assertIn("Choose the invoices", self.url_open(f"{base}/pay?item=12abc").text)
        self.assertFalse(self.env["payment.transaction"].sudo().search([("partner_id", "=", self.customer.id)]))

        # The transaction route checks again: another customer's item, an amount that is not the ledger's,
        # a link that opens nothing.
        own = self._items(self.invoice_a)
        stranger = self.stranger_invoice.line_ids.filtered("date_maturity")
        for route, amount, reason in (
            (f"{base}/pay/{own.id}-{stranger.id}/transaction", 1799.0, "Choose the invoices"),
            (f"{base}/pay/{own.id}/transaction", 1.0, "The amount due has changed"),
            (f"{base}/pay/{own.id}/transaction", None, "The amount due has changed"),
            (f"/collections/account/{self.stranger.id}.{self.token.split('.', 1)[1]}/pay/{stranger.id}/transaction",
             999.0, "no longer opens your account"),
        ):
            with self.subTest(route=route, amount=amount):
                self._transaction(route, amount, refused=reason)
        Transaction = self.env["payment.transaction"].sudo()
        self.assertFalse(Transaction.search([("invoice_ids", "in", self.stranger_invoice.ids)]))
        self.assertFalse(Transaction.search([("partner_id", "=", self.customer.id)]))

    def test_a_paid_invoice_cannot_be_paid_again_from_an_old_page(self):
        self.authenticate(None, None)
        context = self._context(self._pay_page(self._items(self.invoice_a)))
        self._pay(self.invoice_a, 800.0, when=self.today)
        self._transaction(context["transaction_route"], 800.0, refused="Choose the invoices")

    def test_a_portal_user_pays_from_its_account_balance(self):
        portal = new_test_user(self.env, login="acme_portal", groups="base.group_portal", password="acme_portal_pw",
                               name="Acme Accounts", email="accounts@acme.example.com")
        portal.partner_id.parent_id = self.customer
        self.authenticate("acme_portal", "acme_portal_pw")
        page = self.url_open("/my/collections")
        self.assertIn('action="/my/collections/pay"', page.text)
        context = self._context(self._pay_page(self._items(self.invoice_b), base="/my/collections"))
        self.assertEqual(context["amount"], 380.0)
        processing = self._transaction(context["transaction_route"], 380.0)
        tx = self._get_tx(processing["reference"])
        self.assertEqual((tx.invoice_ids, tx.partner_id), (self.invoice_b, portal.partner_id))
        self.assertEqual(tx.landing_route, "/my/collections?message=payment_ok")
        # Another customer's item, through the portal route: refused.
        self._transaction(f"/my/collections/pay/{self.stranger_invoice.line_ids.filtered('date_maturity').id}"
                          "/transaction", 999.0, refused="Choose the invoices")
