"""When each open item will be paid, the 13-week forecast and its accuracy, on Odoo's own documents."""
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged
from odoo.tools import format_date

from ..engine import forecast as F
from ..models import collections_forecast
from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestForecast(CollectionsCommon):
    """Three customers with a known history (always 10 days late, always on time, never pays: credit notes),
    built with Odoo's invoices, payments and credit notes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.late = cls._customer("Ten Days Late Ltd", "late@example.com")
        cls.punctual = cls._customer("Punctual Ltd", "punctual@example.com")
        cls.never = cls._customer("Never Pays Ltd", "never@example.com")
        for month in range(1, 7):
            days_ago = 30 * month + 20  # due 50, 80, ... days ago: all settled
            cls._pay(cls._invoice(cls.late, 1000.0, days_ago), 1000.0, when=TODAY - timedelta(days=days_ago - 10))
            cls._pay(cls._invoice(cls.punctual, 1000.0, days_ago), 1000.0, when=TODAY - timedelta(days=days_ago))
            cls._credit(cls._invoice(cls.never, 1000.0, days_ago))
        cls.late_open = cls._invoice(cls.late, 800.0, 3)  # 3 days late
        cls.late_future = cls._invoice(cls.late, 300.0, -20)  # due in 20 days
        cls.punctual_open = cls._invoice(cls.punctual, 1200.0, -9)  # due in 9 days
        cls.never_open = cls._invoice(cls.never, 700.0, 4)

    @classmethod
    def _credit(cls, invoice):
        """The invoice cancelled by a credit note (closed without money)."""
        reversal = invoice._reverse_moves([{"invoice_date": invoice.invoice_date_due + timedelta(days=30)}],
                                          cancel=True)
        return reversal

    def _rebuild(self):
        self.env["collections.forecast"]._rebuild(self.company, TODAY)
        return self.env["collections.forecast.item"].search([("company_id", "=", self.company.id)])

    def test_the_ledger_reader_tells_money_from_credit_notes(self):
        histories = self.env["collections.forecast"]._histories(self.company, TODAY)
        by_customer = {}
        for history in histories:
            by_customer.setdefault(history.customer, []).append(history)
        late = by_customer[self.late.id]
        self.assertEqual(len(late), 8)
        paid = [h for h in late if h.payments]
        self.assertEqual(len(paid), 6)
        self.assertEqual({(when - h.due_date).days for h in paid for when, _amount in h.payments}, {10})
        never = by_customer[self.never.id]
        self.assertEqual(sum(len(h.closed) for h in never), 6, "credit notes close without money")
        self.assertFalse([h for h in never if h.payments])
        self.assertEqual({h.open_at(TODAY) for h in never if not h.closed}, {700.0})
        # Read a customer at a time (the scheduled job reads a few thousand at a time): the same histories.
        Forecast = self.env["collections.forecast"]
        customers = Forecast._history_customers(self.company, TODAY - timedelta(days=730))
        self.assertEqual(set(customers), set(by_customer))
        # The stream fetching 2 rows at a time: a customer's rows, and an item's (one per part paid), come in
        # several fetches and are put back together.
        with patch.object(collections_forecast, "HISTORY_FETCH", 2):
            chunks = list(Forecast._history_chunks(self.company, TODAY, size=1)())
        self.assertEqual([{h.customer for h in chunk} for chunk in chunks], [{c} for c in customers])
        self.assertEqual(sorted((h for chunk in chunks for h in chunk), key=lambda h: h.key),
                         sorted(histories, key=lambda h: h.key))
        # A stream is closed once read: two read one after the other in one transaction.
        again = [customer for customer, _histories in Forecast._history_stream(self.company, TODAY)]
        self.assertEqual(again, sorted(customers))

    def test_expected_dates_and_chances_are_the_worked_out_ones(self):
        items = self._rebuild()
        by_move = {item.move_id: item for item in items}
        # Always 10 days late: 3 days late now, paid in 7 days; due in 20 days, paid 30 days from now.
        self.assertEqual(by_move[self.late_open].expected_date, TODAY + timedelta(days=7))
        self.assertEqual(by_move[self.late_future].expected_date, TODAY + timedelta(days=30))
        # On time: on its due date.
        self.assertEqual(by_move[self.punctual_open].expected_date, TODAY + timedelta(days=9))
        # Never pays, and nothing in these books was paid 4 days late but the 10-day payer's: its pool says day
        # 10, with the small chance the pool gives (the customer's own history weighs against it).
        never = by_move[self.never_open]
        self.assertLess(never.p90, 0.5)
        self.assertAlmostEqual(never.expected_loss, 700.0 * (1 - never.p90), places=2)
        # The figures are the engine's on the same ledger.
        histories = self.env["collections.forecast"]._histories(self.company, TODAY)
        model = F.fit(histories, TODAY, self.env["collections.forecast"]._segments(
            self.company, {h.customer for h in histories}))
        for move, item in by_move.items():
            engine = F.predict(model.curve(move.commercial_partner_id.id, item.segment_id.id or None),
                               move.amount_residual, move.invoice_date_due, TODAY)
            self.assertAlmostEqual(item.p30, engine.p30, places=6)
            self.assertEqual(item.expected_date, engine.expected)
        # Never before today, whatever the history.
        self.assertFalse([item for item in items if item.expected_date and item.expected_date <= TODAY])

    def test_an_invoice_due_in_four_months_is_no_expected_loss(self):
        """Not paid within 90 days of today (it is not due by then), and not a loss for it: its loss is the chance it
        is still unpaid 90 days after it falls due (the customer pays ten days late; what its pool, with the
        never-paying customer, says of the rest), not 900 x (1 - p90) = 900."""
        far = self._invoice(self.late, 900.0, -120)
        item = self._rebuild().filtered(lambda item: item.move_id == far)
        self.assertEqual((item.p90, item.expected_date), (0.0, TODAY + timedelta(days=130)))
        histories = self.env["collections.forecast"]._histories(self.company, TODAY)
        curve = F.fit(histories, TODAY).curve(self.late.id)
        still_unpaid = curve.s(90) / curve.s(-120)  # 90 days after its due date, of what is unpaid today
        self.assertAlmostEqual(item.expected_loss, 900.0 * still_unpaid, places=2)
        self.assertLess(item.expected_loss, 0.2 * 900.0)

    def test_weekly_totals_are_the_sums_of_the_items_contributions(self):
        self._rebuild()
        weeks = self.env["collections.forecast.week"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(weeks), F.WEEKS)
        rows = self.env["collections.cash.forecast"].search([("company_id", "=", self.company.id)])
        for week in weeks:
            expected = sum(rows.filtered(lambda row, w=week: row.week == w.week).mapped("amount"))
            self.assertAlmostEqual(week.likely, expected, places=2)
            self.assertLessEqual(week.low, week.likely)
            self.assertGreaterEqual(week.high, week.likely)
        # Due dates alone: what is late this week (800 and 700), the rest in the week it falls due.
        self.assertAlmostEqual(weeks[0].contractual, 1500.0, places=2)
        self.assertAlmostEqual(sum(weeks.mapped("contractual")), 800.0 + 300.0 + 1200.0 + 700.0, places=2)

    def test_rebuilt_a_customer_at_a_time_the_forecast_is_the_same(self):
        """The rebuild writes a batch of customers at a time (memory flat as the book grows): one customer per
        batch stores the same items, weekly rows and band as all of them in one."""
        def stored():
            self.env["collections.forecast"]._rebuild(self.company, TODAY)
            domain = [("company_id", "=", self.company.id)]
            items = sorted((item.partner_id.id, item.move_id.id, item.source, item.amount, item.expected_date,
                            round(item.p30, 6), round(item.expected_loss, 2))
                           for item in self.env["collections.forecast.item"].search(domain))
            rows = sorted((row.partner_id.id, row.source, row.week, round(row.amount, 2), round(row.contractual, 2))
                          for row in self.env["collections.cash.forecast"].search(domain))
            weeks = [(week.week, round(week.low, 2), round(week.likely, 2), round(week.high, 2), week.contractual)
                     for week in self.env["collections.forecast.week"].search(domain, order="week")]
            return items, rows, weeks

        # A customer paid up, after (by id) the last one with something open: its history comes last in the stream.
        paid_up = self._customer("Paid Up Ltd", "paidup@example.com")
        self._pay(self._invoice(paid_up, 500.0, 40), 500.0, when=TODAY - timedelta(days=35))
        whole = stored()
        self.assertEqual(len(whole[0]), 4)
        # Its history stream read to the end and closed (a cursor left open holds its sorted rows until the
        # transaction ends).
        self.env.cr.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE 'collections_history_%%'")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        with patch.object(collections_forecast, "HISTORY_CHUNK", 1), \
                patch.object(collections_forecast, "HISTORY_FETCH", 3):
            self.assertEqual(stored(), whole)

    def test_unapplied_credits_settle_the_oldest_debts_first(self):
        """A 500 credit note left unmatched: the oldest open invoice (800, 3 days late) is expected for 300 only,
        the next one whole; what the credit covers is neither cash to come nor a loss."""
        refund = self.env["account.move"].create({
            "move_type": "out_refund", "partner_id": self.late.id, "invoice_date": TODAY,
            "invoice_line_ids": [(0, 0, {"name": "Goodwill", "quantity": 1, "price_unit": 500.0, "tax_ids": []})],
        })
        refund.action_post()
        items = self._rebuild().filtered(lambda item: item.partner_id == self.late)
        self.assertEqual({item.move_id: item.amount for item in items},
                         {self.late_open: 300.0, self.late_future: 300.0})

    def test_the_worklist_ranks_by_expected_loss(self):
        items = self._rebuild()
        worklist = self.env["collections.worklist"].with_user(self.collector).search(
            [("company_id", "=", self.company.id)], order="expected_loss desc")
        self.assertEqual(worklist[0].partner_id, self.never)
        self.assertAlmostEqual(worklist[0].expected_loss, sum(items.filtered(
            lambda item: item.partner_id == self.never).mapped("expected_loss")), places=2)
        # Disputed, the invoice is no loss to chase (its dispute decides what is owed), nor cash to come.
        self.env["collections.dispute"].with_user(self.collector).create({
            "partner_id": self.never.id, "move_ids": [(6, 0, self.never_open.ids)],
            "reason_id": self.env.ref("collections_followup.dispute_reason_quality").id,
            "description": "Goods returned",
        })
        item = self._rebuild().filtered(lambda item: item.move_id == self.never_open)
        self.assertEqual((item.source, item.expected_loss, item.expected_date), ("dispute", 0.0, False))
        self.env.invalidate_all()  # the worklist is a view: read it again, as the next request does
        worklist = self.env["collections.worklist"].with_user(self.collector).search(
            [("company_id", "=", self.company.id), ("partner_id", "=", self.never.id)])
        self.assertEqual(worklist.expected_loss, 0.0)

    def test_the_accuracy_is_measured_once_a_month_and_says_it_in_a_sentence(self):
        Forecast = self.env["collections.forecast"]
        Forecast._cron_forecast()
        Forecast._cron_forecast()
        accuracy = self.env["collections.forecast.accuracy"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(accuracy), 1, "once per month, however often the job runs")
        self.assertEqual(accuracy.month_ends, 12)
        self.assertEqual(len(accuracy.line_ids), 12)
        self.assertIn("Last 12 months: weekly cash-in off by", accuracy.sentence)
        self.assertTrue(self.env["collections.forecast.week"].search([("company_id", "=", self.company.id)]))

    def test_the_customer_form_says_when_it_pays(self):
        self._rebuild()
        text = str(self.late.with_user(self.collector).collections_forecast)
        self.assertIn("Pays 10 days late on average", text)
        # One day: "1 day", not "1 days" (read on the demo).
        one_day = F.Curve([1], [0.0], weight=3.0, mean_delay=1.0)
        self.assertIn("Pays 1 day late on average", str(self.env["collections.forecast"]._customer_text(one_day, [])))
        # Early and punctual payers: not "Pays -3 days late" nor "Pays 0 days late" (read in the code).
        for delay, sentence in ((-3.2, "Pays 3 days early on average"), (-1.0, "Pays 1 day early on average"),
                                (0.3, "Pays on the due date on average")):
            said = str(self.env["collections.forecast"]._customer_text(
                F.Curve([1], [0.0], weight=3.0, mean_delay=delay), []))
            self.assertIn(sentence, said)
            self.assertNotIn(" -", said)
            self.assertNotIn(" 0 days", said)
        self.assertIn("on what it paid", text)
        self.assertIn(self.late_open.name, text)
        # A date with little chance of being paid by it: said so, not "expected around <date>; 0 % within 30 days"
        # (read on the bench's customer form).
        unlikely = self.env["collections.forecast.item"].sudo().create({
            "company_id": self.company.id, "partner_id": self.never.id, "move_id": self.never_open.id,
            "source": "invoice", "amount": 700.0, "due_date": TODAY - timedelta(days=4),
            "expected_date": TODAY + timedelta(days=3), "p30": 0.001, "p60": 0.002, "p90": 0.02})
        said = str(self.env["collections.forecast"]._customer_text(None, unlikely))
        self.assertIn(f"{self.never_open.name} ($\xa0700.00): unlikely to be paid without action (2 % within 90 days); "
                      f"if it is, around {format_date(self.env, TODAY + timedelta(days=3))}.", said)
        self.assertNotIn("expected around", said)
        # The date as the user reads dates (Odoo's format of their language), not ISO.
        self.assertIn(format_date(self.env, TODAY + timedelta(days=7)), text)
        self.assertNotIn(str(TODAY + timedelta(days=7)), text)
        self.late_open.invalidate_recordset()
        self.assertEqual(self.late_open.with_user(self.collector).collections_predicted_date,
                         TODAY + timedelta(days=7))

    def test_only_collections_and_billing_read_the_forecast(self):
        self._rebuild()
        self.env["collections.forecast"]._measure(self.company, TODAY)
        salesman = self.salesman
        for model in ("collections.forecast.item", "collections.forecast.week", "collections.cash.forecast",
                      "collections.forecast.accuracy", "collections.forecast.accuracy.line"):
            for user in (self.collector, self.billing):
                with self.subTest(model=model, user=user.login):
                    self.assertTrue(self.env[model].with_user(user).search_count([]))
            with self.subTest(model=model, user="sales"), self.assertRaises(AccessError):
                self.env[model].with_user(salesman).search_count([])
        with self.assertRaises(AccessError):
            self.env["collections.cash.forecast"].with_user(salesman).action_open()
        self.assertNotIn("collections_forecast", self.env["res.partner"].with_user(salesman).fields_get())
