from datetime import date, timedelta

from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestLateFees(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fee_product = cls.env["product.product"].create({
            "name": "Late payment charges", "type": "service", "taxes_id": [(6, 0, [])],
        })
        manager_policy = cls.policy.with_user(cls.manager)
        manager_policy.write({"fee_product_id": cls.fee_product.id, "interest_margin": 8.0})
        cls.env["collections.interest.rate"].with_user(cls.manager).create([
            {"date_from": date(2026, 1, 1), "rate": 4.5, "company_id": cls.company.id},
            {"date_from": date(2026, 7, 1), "rate": 4.0, "company_id": cls.company.id},
        ])
        cls.customer.is_company = True

    def _set_fee(self, level, **values):
        level.with_user(self.manager).write(values)

    def _fee_invoices(self):
        return self.env["account.move"].search([
            ("partner_id", "=", self.customer.id), ("collections_fee_source", "=", True),
        ])

    def test_fixed_fee_invoiced_announced_and_logged(self):
        self._set_fee(self.level_first, fee_type="fixed", fee_fixed=25.0)
        late = self._invoice(self.customer, 1000.0, 10)
        with self.mock_mail_gateway():
            self._run()
        fee_invoice = self._fee_invoices()
        self.assertEqual(fee_invoice.state, "posted")
        self.assertEqual(fee_invoice.amount_total, 25.0)
        self.assertIn(late.name, fee_invoice.invoice_line_ids.name)
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn("late payment charges", body)
        self.assertIn("25.00", body)
        fee = self.env["collections.fee"].search([("move_id", "=", late.id)])
        self.assertEqual((fee.level_id, fee.amount, fee.fee_move_id), (self.level_first, 25.0, fee_invoice))
        log = self._actions(self.customer, channel="fee")
        self.assertIn(fee_invoice.name, log.note)

    def test_fee_never_charged_twice_for_a_level(self):
        self._set_fee(self.level_first, fee_type="fixed", fee_fixed=25.0)
        late = self._invoice(self.customer, 1000.0, 10)
        self._run()
        # The level is sent again (a collector resends it by hand the next day): no second fee.
        self._reached(late, self.env["collections.level"], None)
        self._run(today=TODAY + timedelta(days=1))
        self.assertEqual(len(self._fee_invoices()), 1)
        self.assertEqual(self.env["collections.fee"].search_count([("move_id", "=", late.id)]), 1)

    def test_statutory_interest_to_the_cent_with_partial_payment(self):
        self._set_fee(self.level_first, fee_type="interest")
        # 10,000 due 31 Jan 2026; 4,000 paid on 1 Mar; at 31 Mar, 4.5 % + 8 points:
        # 10000 * 12.5% * 28/365 + 6000 * 12.5% * 31/365 = 95.8904 + 63.6986 = 159.59
        invoice = self._invoice(self.customer, 10000.0, (TODAY - date(2026, 1, 31)).days)
        self._pay(invoice, 4000.0, date(2026, 3, 1))
        self._run()
        fee = self.env["collections.fee"].search([("move_id", "=", invoice.id)])
        self.assertEqual(fee.interest, 159.59)
        self.assertEqual(self._fee_invoices().amount_total, 159.59)

    def test_later_level_charges_only_interest_accrued_since_and_compensation_once(self):
        self._set_fee(self.level_first, fee_type="interest", fee_compensation=40.0)
        self._set_fee(self.level_second, fee_type="interest", fee_compensation=40.0)
        invoice = self._invoice(self.customer, 10000.0, (TODAY - date(2026, 1, 31)).days)
        self._run()
        first = self.env["collections.fee"].search([("move_id", "=", invoice.id)])
        # 10000 * 12.5% * 59/365 = 202.05, plus 40 of compensation.
        self.assertEqual((first.interest, first.compensation, first.amount), (202.05, 40.0, 242.05))
        later = TODAY + timedelta(days=14)  # the second level (21 days after the first's 7)
        self._run(today=later)
        second = self.env["collections.fee"].search([
            ("move_id", "=", invoice.id), ("level_id", "=", self.level_second.id),
        ])
        # Interest to 14 April (73 days) = 250.00; less 202.05 already charged = 47.95; no second compensation.
        self.assertEqual((second.interest, second.compensation, second.amount), (47.95, 0.0, 47.95))

    def test_no_rate_in_force_fails_cleanly(self):
        self._set_fee(self.level_first, fee_type="interest")
        old = self._invoice(self.customer, 500.0, (TODAY - date(2025, 11, 30)).days)
        with self.mock_mail_gateway():
            self._run()
        action = self._actions(self.customer)
        self.assertEqual(action.state, "failed")
        self.assertIn("No reference interest rate is in force on 2025-12-01", action.failure_reason)
        self.assertFalse(self._mails_to(self.customer), "nothing half-done: no reminder")
        self.assertFalse(self._fee_invoices())
        self.assertFalse(old.collections_level_id)

    def test_fee_invoice_goes_through_a_credit_hold(self):
        self.policy.with_user(self.manager).block_invoice_posting = True
        self._set_fee(self.level_first, fee_type="percent", fee_percent=2.0, fee_cap=15.0)
        self._invoice(self.customer, 1000.0, 10)
        self.customer.with_company(self.company)._collections_set_hold("Testing", "manual", self.company)
        self._run()
        self.assertEqual(self._fee_invoices().amount_total, 15.0, "2% of 1000 capped at 15")

    def test_fee_needs_a_product(self):
        self.policy.with_user(self.manager).fee_product_id = False
        with self.assertRaisesRegex(ValidationError, "Late Fee Product"):
            self._set_fee(self.level_first, fee_type="fixed", fee_fixed=10.0)

    def test_fees_on_an_invoice_in_euros_are_worked_out_and_invoiced_in_euros(self):
        """The policy's 25.00 is in dollars: on an invoice in euros it is 62.50 EUR at the day's 2.5 per dollar, on
        an invoice of its own in euros; the dollar invoice's fee is on another, and the log names both."""
        euro = self.setup_other_currency("EUR", rates=[("2025-01-01", 2.0), ("2026-03-01", 2.5)])
        self._set_fee(self.level_first, fee_type="fixed", fee_fixed=25.0)
        in_euros = self._invoice(self.customer, 1000.0, 10, currency=euro)
        in_dollars = self._invoice(self.customer, 400.0, 10)
        with self.mock_mail_gateway():
            self._run()
        fees = self.env["collections.fee"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(sorted((fee.move_id.name, fee.currency_id.name, fee.amount, fee.amount_company)
                                for fee in fees),
                         sorted([(in_euros.name, "EUR", 62.5, 25.0), (in_dollars.name, "USD", 25.0, 25.0)]))
        invoices = self._fee_invoices()
        self.assertEqual(sorted((move.currency_id.name, move.amount_total, move.amount_total_signed)
                                for move in invoices), [("EUR", 62.5, 25.0), ("USD", 25.0, 25.0)])
        self.assertEqual(fees.mapped("fee_move_id"), invoices)
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(f"{in_euros.name} (10 days late): <strong>62.50&nbsp;€</strong>", body)
        self.assertIn(f"{in_dollars.name} (10 days late): <strong>$&nbsp;25.00</strong>", body)
        entry = self._actions(self.customer, channel="fee")
        self.assertTrue(all(move.name in entry.note for move in invoices), entry.note)
        # The entry's Amount: the fees charged, in company currency; what the customer owes, the fees included.
        self.assertEqual(entry.amount, 50.0)
        self.assertAlmostEqual(entry.amount_due, self.customer.with_company(self.company).credit)

    def test_statutory_interest_on_an_invoice_in_euros_runs_on_the_euros_owed(self):
        """10,000 EUR due 31 Jan, 4,000 EUR paid on 1 Mar at another rate than the invoice's: the interest runs on
        the euros owed (the same 159.59 as on dollars), whatever the two rates made of them in dollars."""
        euro = self.setup_other_currency("EUR", rates=[("2025-01-01", 2.0), ("2026-02-15", 2.5)])
        self._set_fee(self.level_first, fee_type="interest")
        invoice = self._invoice(self.customer, 10000.0, (TODAY - date(2026, 1, 31)).days, currency=euro)
        self._pay(invoice, 4000.0, date(2026, 3, 1))
        self.assertEqual((invoice.amount_residual, invoice.amount_residual_signed), (6000.0, 3000.0))
        self._run()
        fee = self.env["collections.fee"].search([("move_id", "=", invoice.id)])
        self.assertEqual((fee.currency_id, fee.interest, fee.amount, fee.amount_company), (euro, 159.59, 159.59, 63.84))
        self.assertEqual((self._fee_invoices().currency_id, self._fee_invoices().amount_total), (euro, 159.59))
