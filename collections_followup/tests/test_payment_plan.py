import base64
from datetime import timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged

from .common import TODAY, CollectionsCommon

SIGNED_PDF = base64.b64encode(b"%PDF-1.4 signed agreement")


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestPaymentPlan(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.with_user(cls.manager).write({
            "plan_grace_days": 5, "plan_reminder_days": 3, "broken_plan_level_id": cls.level_second.id,
        })
        cls.inv_a = cls._invoice(cls.customer, 200.0, 40)
        cls.inv_b = cls._invoice(cls.customer, 100.0, 30)
        cls.other = cls._invoice(cls.customer, 50.0, 25)

    def _plan(self, moves=None, **values):
        form = Form(self.env["collections.payment.plan"].with_user(self.collector))
        form.partner_id = self.customer
        form.move_ids.clear()
        for move in moves or (self.inv_a | self.inv_b):
            form.move_ids.add(move)
        form.instalment_count = values.get("count", 3)
        form.frequency = values.get("frequency", "monthly")
        form.first_date = values.get("first_date", TODAY + timedelta(days=10))
        for field in ("fee_amount", "interest_rate", "down_payment", "down_payment_date"):
            if field in values:
                setattr(form, field, values[field])
        plan = form.save()
        plan.action_compute_schedule()
        return plan

    def _accept(self, plan):
        plan.signed_document = SIGNED_PDF
        plan.action_accept_paper()

    def test_collector_builds_and_proposes_a_plan(self):
        plan = self._plan()
        self.assertEqual(plan.amount_covered, 300.0)
        self.assertEqual(plan.line_ids.mapped("amount"), [100.0, 100.0, 100.0])
        self.assertEqual(plan.line_ids.mapped("due_date"), [
            TODAY + timedelta(days=10), (TODAY + timedelta(days=10)).replace(month=5),
            (TODAY + timedelta(days=10)).replace(month=6),
        ])
        with self.mock_mail_gateway():
            plan.action_propose()
        self.assertEqual(plan.state, "proposed")
        mail = self._mails_to(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertIn(plan.name, mail[0].subject)
        self.assertIn(f"/my/collections/plan/{plan.id}", mail[0].body_html)
        self.assertIn("access_token=", mail[0].body_html)
        self.assertEqual(len(mail[0].attachment_ids), 1, "the agreement goes with the proposal")
        self.assertEqual(self._actions(self.customer, channel="plan").note, f"Payment plan {plan.name} proposed")
        with self.assertRaises(UserError):
            plan.instalment_count = 6  # terms are frozen once proposed

    def test_invoices_of_another_customer_are_refused(self):
        stranger = self._customer("Stranger", "s@example.com")
        foreign = self._invoice(stranger, 10.0, 5)
        with self.assertRaises(ValidationError):
            self.env["collections.payment.plan"].with_user(self.collector).create({
                "partner_id": self.customer.id, "move_ids": [(6, 0, foreign.ids)],
            })

    def test_schedule_must_add_up(self):
        plan = self._plan()
        plan.schedule_mode = "custom"
        plan.line_ids[-1].amount = 90.0
        with self.assertRaisesRegex(ValidationError, "add up to"):
            plan.action_propose()
        self.assertEqual(plan.state, "draft", "nothing half-done")

    def test_paper_acceptance_needs_the_signed_document(self):
        plan = self._plan()
        with self.assertRaisesRegex(UserError, "Attach the agreement"):
            plan.action_accept_paper()
        self._accept(plan)
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.accepted_channel, "paper")
        self.assertEqual(plan.amount_basis, 300.0)

    def test_active_plan_pauses_only_its_invoices(self):
        plan = self._plan()
        self._accept(plan)
        with self.mock_mail_gateway():
            self._run()
        mail = self._mails_to(self.customer)
        self.assertEqual(len(mail), 1)
        self.assertIn(self.other.name, mail[0].body_html)
        self.assertNotIn(self.inv_a.name, mail[0].body_html)
        self.assertNotIn(self.inv_b.name, mail[0].body_html)
        self.assertFalse(self.inv_a.collections_level_id)
        # The paused invoices still count in what the customer owes.
        self.assertEqual(self.customer.collections_total_overdue, 350.0)

    def test_partial_payments_fill_instalments_oldest_first(self):
        plan = self._plan()
        self._accept(plan)
        self._pay(self.inv_b, 100.0)
        self._pay(self.inv_a, 50.0)
        plan.invalidate_recordset()
        self.assertEqual(plan.amount_paid, 150.0)
        self.assertEqual(plan.line_ids.mapped("paid"), [100.0, 50.0, 0.0])
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "partial", "open"])

    def test_instalment_reminder_once_before_due_date(self):
        plan = self._plan(first_date=TODAY + timedelta(days=3))
        self._accept(plan)
        Plan = self.env["collections.payment.plan"]
        with self.mock_mail_gateway():
            Plan._cron_check_plans()
            Plan._cron_check_plans()
        mails = self._mails_to(self.customer)
        self.assertEqual(len(mails), 1, "one reminder per instalment, however often the check runs")
        self.assertIn("instalment 1", mails[0].body_html)
        self.assertEqual(plan.line_ids[0].reminder_date, TODAY)

    def test_late_instalment_breaks_the_plan_after_grace_and_follow_up_resumes(self):
        plan = self._plan(first_date=TODAY + timedelta(days=1))
        self._accept(plan)
        Plan = self.env["collections.payment.plan"]
        with freeze_time(TODAY + timedelta(days=6)):
            Plan._cron_check_plans()
            self.assertEqual(plan.state, "active", "still within the 5 grace days")
        with freeze_time(TODAY + timedelta(days=7)), self.mock_mail_gateway():
            Plan._cron_check_plans()
            self.assertEqual(plan.state, "broken")
            self.assertIn("Instalment 1", plan.end_reason)
            broken_mail = self._mails_to(self.customer)
            self.assertEqual(len(broken_mail), 1)
            self.assertIn("no longer in force", broken_mail[0].body_html)
            activity = plan.activity_ids
            self.assertEqual(activity.user_id, self.collector, "the collector is told")
            # Follow-up resumes at the policy's level for broken plans (the second reminder).
            self.assertEqual((self.inv_a | self.inv_b).collections_level_id, self.level_first)
            self._run(today=TODAY + timedelta(days=7))
            self.assertEqual(self.inv_a.collections_level_id, self.level_second)
            self.assertEqual(self.inv_b.collections_level_id, self.level_second)

    def test_plan_completed_when_paid(self):
        plan = self._plan()
        self._accept(plan)
        self._pay(self.inv_a, 200.0)
        self._pay(self.inv_b, 100.0)
        self.env["collections.payment.plan"]._cron_check_plans()
        self.assertEqual(plan.state, "completed")

    def test_fee_and_interest_become_an_invoice_in_the_plan(self):
        plan = self._plan(fee_amount=30.0, interest_rate=12.0)
        self.assertGreater(plan.amount_interest, 0)
        self.assertAlmostEqual(plan.amount_total, 330.0 + plan.amount_interest)
        self._accept(plan)
        fee = plan.fee_move_id
        self.assertEqual(fee.state, "posted")
        self.assertAlmostEqual(fee.amount_total, 30.0 + plan.amount_interest)
        self.assertIn(fee, plan.move_ids)
        self.assertAlmostEqual(plan.amount_basis, plan.amount_total)

    def test_one_plan_per_invoice(self):
        first = self._plan()
        self._accept(first)
        second = self._plan(moves=self.inv_a)
        with self.assertRaisesRegex(UserError, first.name):
            second.action_propose()

    def test_cancel_resumes_follow_up(self):
        plan = self._plan()
        self._accept(plan)
        plan.with_user(self.collector).action_cancel()
        with self.mock_mail_gateway():
            self._run()
        self.assertIn(self.inv_a.name, self._mails_to(self.customer)[0].body_html)

    def test_salesperson_cannot_create_a_plan(self):
        with self.assertRaises(AccessError):
            self.env["collections.payment.plan"].with_user(self.salesman).create({
                "partner_id": self.customer.id, "move_ids": [(6, 0, self.inv_a.ids)],
            })
