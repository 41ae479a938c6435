from datetime import timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged

from ..models.res_partner_mail import Reminder
from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestPromises(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.with_user(cls.manager).promise_grace_days = 2
        cls.inv = cls._invoice(cls.customer, 500.0, 20)

    def _promise(self, amount=500.0, days=5, **values):
        return self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "amount": amount,
            "promised_date": TODAY + timedelta(days=days), **values,
        })

    def test_promise_on_customer_covers_open_invoices_and_pauses_them(self):
        promise = self._promise()
        self.assertEqual(promise.move_ids, self.inv)
        self.assertEqual(promise.grace_days, 2)
        self.assertEqual(promise.user_id, self.collector)
        self.assertEqual(self.customer.collections_status, "waiting")
        with self.mock_mail_gateway():
            self.assertEqual(self._run(), 0)
        # Resumes the day after the promised date plus grace.
        self.assertEqual(self.customer.collections_next_action_date, TODAY + timedelta(days=8))
        log = self._actions(self.customer, channel="promise")
        self.assertIn("taken by Colin Collector", log.note)

    def test_promise_kept(self):
        promise = self._promise()
        self._pay(self.inv, 500.0, TODAY + timedelta(days=3))
        with freeze_time(TODAY + timedelta(days=3)):
            self.env["collections.promise"]._cron_check_promises()
        self.assertEqual(promise.state, "kept")
        self.assertEqual(self.customer.collections_promise_kept_rate, 100.0)

    def test_promise_broken_resumes_follow_up_and_tells_the_collector(self):
        promise = self._promise(amount=500.0, days=5)
        self._pay(self.inv, 200.0, TODAY + timedelta(days=4))
        Promise = self.env["collections.promise"]
        with freeze_time(TODAY + timedelta(days=7)):
            Promise._cron_check_promises()
            self.assertEqual(promise.state, "open", "grace days not over")
        with freeze_time(TODAY + timedelta(days=8)):
            Promise._cron_check_promises()
            self.assertEqual(promise.state, "broken")
            self.assertEqual(promise.activity_ids.user_id, self.collector, "the collector is told")
            self.assertIn("200.00", self._actions(self.customer, channel="promise")[0].note)
            with self.mock_mail_gateway():
                self.assertEqual(self._run(today=TODAY + timedelta(days=8)), 1)
        self.assertEqual(self.customer.collections_promise_kept_rate, 0.0)

    def test_promise_in_the_past_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "past"):
            self._promise(days=-1)

    def test_settled_promise_is_frozen(self):
        promise = self._promise()
        promise.action_cancel()
        with self.assertRaises(UserError):
            promise.amount = 10.0


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestSettlement(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.writeoff_account = cls.company_data["default_account_expense"]
        cls.policy.with_user(cls.manager).writeoff_account_id = cls.writeoff_account
        cls.inv_a = cls._invoice(cls.customer, 700.0, 120)
        cls.inv_b = cls._invoice(cls.customer, 300.0, 90)

    def _offer(self, agreed=600.0):
        settlement = self.env["collections.settlement"].with_user(self.collector).create({
            "partner_id": self.customer.id,
            "move_ids": [(6, 0, (self.inv_a | self.inv_b).ids)],
            "amount_agreed": agreed,
            "deadline": TODAY + timedelta(days=15),
            "reason": "Customer in receivership; 60% offered in full settlement",
        })
        settlement.action_submit()
        return settlement

    def test_only_a_manager_approves(self):
        settlement = self._offer()
        request = settlement.with_user(self.manager).activity_ids
        self.assertEqual(len(request), 1, "a manager is asked to approve")
        self.assertTrue(request.user_id.has_group("collections_followup.group_collections_manager"))
        with self.assertRaises(AccessError):
            settlement.with_user(self.collector).action_approve()
        settlement.with_user(self.manager).action_approve()
        self.assertEqual(settlement.state, "approved")
        self.assertEqual(settlement.approved_by_id, self.manager)
        self.assertFalse(settlement.with_user(self.manager).activity_ids, "the request is closed")

    def test_offer_must_be_less_than_owed(self):
        with self.assertRaisesRegex(ValidationError, "less than what is owed"):
            self._offer(agreed=1000.0)

    def test_paid_settlement_writes_off_the_rest_reconciled(self):
        settlement = self._offer()
        settlement.with_user(self.manager).action_approve()
        self._pay(self.inv_a, 600.0)
        settlement.with_user(self.collector).action_check_payment()
        self.assertEqual(settlement.state, "done")
        entry = settlement.writeoff_move_id
        self.assertEqual(entry.state, "posted")
        self.assertAlmostEqual(sum(entry.line_ids.mapped("debit")), 400.0)
        self.assertAlmostEqual(sum(entry.line_ids.mapped("credit")), 400.0)
        self.assertAlmostEqual(sum(entry.line_ids.filtered(lambda line: line.account_id == self.writeoff_account)
                                   .mapped("balance")), 400.0)
        self.assertEqual((self.inv_a | self.inv_b).mapped("payment_state"), ["paid", "paid"])
        receivable = entry.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self.assertTrue(all(receivable.mapped("reconciled")))
        self.assertIn("400.00", self._actions(self.customer, channel="settlement")[0].note)

    def test_partly_paid_settlement_waits_then_expires(self):
        settlement = self._offer()
        settlement.with_user(self.manager).action_approve()
        self._pay(self.inv_a, 300.0)
        Settlement = self.env["collections.settlement"]
        Settlement._cron_check_settlements()
        self.assertEqual(settlement.state, "approved")
        with freeze_time(TODAY + timedelta(days=16)):
            Settlement._cron_check_settlements()
        self.assertEqual(settlement.state, "expired")
        self.assertFalse(settlement.writeoff_move_id)

    def test_approval_refused_without_write_off_account(self):
        self.policy.with_user(self.manager).writeoff_account_id = False
        settlement = self._offer()
        with self.assertRaisesRegex(UserError, "write-off account"):
            settlement.with_user(self.manager).action_approve()
        self.assertEqual(settlement.state, "to_approve")


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestDeferral(CollectionsCommon):

    def test_deferred_invoice_is_left_out_until_the_date(self):
        deferred = self._invoice(self.customer, 400.0, 30)
        chased = self._invoice(self.customer, 100.0, 30)
        wizard = self.env["collections.defer.wizard"].with_user(self.collector).create({
            "move_ids": [(6, 0, deferred.ids)],
            "date": TODAY + timedelta(days=10),
            "reason": "Waiting for the customer's own client",
        })
        wizard.action_apply()
        self.assertEqual(deferred.collections_deferred_until, TODAY + timedelta(days=10))
        log = self._actions(self.customer, channel="defer")
        self.assertIn("Waiting for the customer's own client", log.note)
        self.assertEqual(log.user_id, self.collector)
        with self.mock_mail_gateway():
            self._run()
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(chased.name, body)
        self.assertNotIn(deferred.name, body)

    def test_defer_date_must_be_in_the_future(self):
        move = self._invoice(self.customer, 400.0, 30)
        with self.assertRaises(UserError):
            self.env["collections.defer.wizard"].with_user(self.collector).create({
                "move_ids": [(6, 0, move.ids)], "date": TODAY, "reason": "x",
            })


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestEarlyPaymentDiscount(CollectionsCommon):

    def test_reminder_shows_the_discount_while_it_lasts(self):
        term = self.env["account.payment.term"].create({
            "name": "30 days, 2% within 10 days",
            "early_discount": True,
            "discount_percentage": 2.0,
            "discount_days": 10,
            "line_ids": [(0, 0, {"value": "percent", "value_amount": 100.0, "nb_days": 30})],
        })
        move = self.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": self.customer.id,
            "invoice_date": TODAY - timedelta(days=3),
            "invoice_payment_term_id": term.id,
            "invoice_line_ids": [(0, 0, {
                "name": "Goods", "quantity": 1, "price_unit": 1000.0, "tax_ids": [(6, 0, [])],
            })],
        })
        move.action_post()
        partner = self.customer.with_user(self.collector)
        [line] = self.env["collections.ledger"].with_user(self.collector)._reminder_rows(partner, self.company,
                                                                                          move_ids=move.ids)
        self.assertEqual(line["discount"], {"amount": 980.0, "date": TODAY + timedelta(days=7)})
        reminder = Reminder(level_id=False, move_ids=tuple(move.ids))  # the reminder of this invoice
        table = partner.with_context(collections_reminders=((partner.id, reminder),)).collections_mail_table
        self.assertIn("if paid by", table)
        with freeze_time(TODAY + timedelta(days=8)):
            [line] = self.env["collections.ledger"].with_user(self.collector)._reminder_rows(partner, self.company,
                                                                                          move_ids=move.ids)
            self.assertIsNone(line["discount"], "expired the day after its last date")
