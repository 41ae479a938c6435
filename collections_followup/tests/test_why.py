from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, new_test_user, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestWhy(CollectionsCommon):
    """Why a customer is where it is: the engine's reasons, the policy, what pauses an invoice and the
    hold, in sentences on the customer, each invoice and the worklist, and stored with each log entry
    as they were at the moment of the decision."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.due = cls._invoice(cls.customer, 1000.0, 10)  # 10 days late: the first reminder (7 days) is due
        cls.waiting = cls._invoice(cls.customer, 400.0, 25)  # at the first level since 4 days: the gap holds it
        cls._reached(cls.waiting, cls.level_first, TODAY - timedelta(days=4))
        cls.promised = cls._invoice(cls.customer, 300.0, 30)
        cls.not_due = cls._invoice(cls.customer, 200.0, -20)
        cls.promise = cls.env["collections.promise"].with_user(cls.collector).create({
            "partner_id": cls.customer.id, "move_ids": [(6, 0, cls.promised.ids)], "amount": 300.0,
            "promised_date": TODAY + timedelta(days=6),
        })
        cls.portal_user = new_test_user(
            cls.env, login="why_portal", groups="base.group_portal", partner_id=cls.customer.id,
        )

    def _why_lines(self, user):
        partner = self.customer.with_user(user).with_company(self.company)
        partner.invalidate_recordset()
        return partner.collections_why

    def test_the_customer_and_each_invoice_say_why(self):
        html = str(self._why_lines(self.collector))
        first, second = self.level_first, self.level_second
        # The customer's outcome first, with the amount the reminder asks for (as the ledger: 1,000 + 400,
        # the invoice waiting for the gap is listed with the one that advances; the promised one is not).
        self.assertIn(f"Level “{first.name}” is due", html)
        self.assertIn("1,400.00", html)
        self.assertIn("(2 items, net of", html)
        self.assertIn("the company&#39;s default policy", html)
        move = self.env["account.move"].with_user(self.billing)
        self.assertEqual(
            move.browse(self.due.id).collections_why,
            f"10 days late: reaches level “{first.name}” (7 days after the due date) today.",
        )
        self.assertEqual(
            move.browse(self.waiting.id).collections_why,
            f"25 days late: listed in the “{first.name}” reminder, without moving to a new level.",
        )
        promised = move.browse(self.promised.id).collections_why
        self.assertIn("30 days late, paused by a promise to pay until", promised)
        self.assertIn("Due on", move.browse(self.not_due.id).collections_why)
        one = self.env["collections.why"]._sentence({
            "code": "action", "level": first.name, "amount": "250.00", "count": 1, "credits": "0.00",
            "minimum": "0.00"}, self.company.currency_id)
        self.assertIn("250.00 (one item, net of", one)
        # Without the invoice that advances, the one at the first level waits for the gap of the ladder.
        self.due.button_draft()
        self.customer.invalidate_recordset()
        waiting = move.browse(self.waiting.id)
        waiting.invalidate_recordset()
        gap = second.delay - first.delay
        self.assertIn(f"level “{second.name}” waits {gap} days after the reminder of", waiting.collections_why)
        short = self.customer.with_user(self.salesman).with_company(self.company).collections_why_short
        self.assertIn("Next level on", short)

    def test_the_log_keeps_the_reasons_of_the_moment(self):
        self._run()
        email = self._actions(self.customer, channel="email")
        self.assertEqual(len(email), 1)
        head = email.why[0]
        self.assertEqual(
            {key: head[key] for key in ("code", "level", "amount", "count")},
            {"code": "action", "level": self.level_first.name, "amount": "1400.00", "count": 2},
        )
        self.assertEqual(email.amount_overdue, 1400.0 + 300.0)
        by_move = {entry.get("move_id"): entry for entry in email.why}
        self.assertEqual(by_move[self.promised.id]["cause"], "promise")
        # A year later the level may be renamed and the promise gone: the entry still says what was decided.
        self.level_first.sudo().name = "Renamed level"
        self.promise.sudo().unlink()
        email.invalidate_recordset()
        html = str(email.with_user(self.collector).why_html)
        self.assertIn("First reminder", html)
        self.assertNotIn("Renamed level", html)
        self.assertIn("paused by a promise to pay", html)

    def test_a_postponement_and_a_hold_are_explained(self):
        self.customer.with_company(self.company).with_user(self.collector).write({
            "collections_postponed_until": TODAY + timedelta(days=5),
            "collections_postpone_reason": "Waiting for the new purchase order",
        })
        self.customer.with_company(self.company).sudo()._collections_set_hold("Cheque bounced", "manual", self.company)
        html = str(self._why_lines(self.collector))
        self.assertIn("A collector postponed the follow-up until", html)
        self.assertIn("(Waiting for the new purchase order)", html)
        self.assertIn("On credit hold since", html)
        self.assertIn("Cheque bounced", html)

    def test_only_employees_read_why(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.portal_user).read(["collections_why"])
        with self.assertRaises(AccessError):
            self.env["account.move"].with_user(self.portal_user).browse(self.due.id).read(["collections_why"])
        self.assertTrue(self.customer.with_user(self.salesman).with_company(self.company).collections_why)

    def test_why_adds_a_query_only_when_an_invoice_is_paused(self):
        """The run decides without reasons; it asks for them for the customers it acts on, and looks up
        what pauses an invoice only when one is paused."""
        partner = self.customer.with_company(self.company)
        decisions = partner._collections_decide(self.company, TODAY, explain="action")
        _policy, decision = decisions[partner.id]
        self.assertTrue(decision.trace)
        Why = self.env["collections.why"]
        other = self._customer("Nothing Paused", "np@example.com")
        self._invoice(other, 500.0, 10)
        other = other.with_company(self.company)
        _policy, plain = other._collections_decide(self.company, TODAY, explain="action")[other.id]
        Why._data(other, self.company, plain)  # the customer's hold fields read once
        with self.assertQueryCount(0):
            data = Why._data(other, self.company, plain)
        self.assertEqual(data[0]["code"], "action")
        # A paused invoice: what pauses it in three queries, whatever the number of invoices: the arrangements, and
        # the payments seen but not booked (bank statement lines, online payments).
        Why._data(partner, self.company, decision)
        with self.assertQueryCount(3):
            data = Why._data(partner, self.company, decision)
        self.assertIn("promise", [entry.get("cause") for entry in data])
