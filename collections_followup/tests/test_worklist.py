from datetime import timedelta

from odoo.tests import freeze_time, tagged

from ..models.collections_guard import server
from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestWorklist(CollectionsCommon):
    """'My collections': a collector's customers, the most urgent first, by status."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reliable = cls._own_customer("Reliable Ltd", score=90)
        cls.risky = cls._own_customer("Risky Ltd", score=10)
        cls.unknown = cls._own_customer("Unknown Ltd", score=None)
        cls._invoice(cls.reliable, 1000.0, 50)
        cls._invoice(cls.risky, 1000.0, 50)
        cls._invoice(cls.unknown, 5000.0, 10)
        cls._invoice(cls.unknown, 700.0, -10)  # not due: in the total, not in the overdue amount

    @classmethod
    def _own_customer(cls, name, score):
        partner = cls._customer(name, f"{name.split()[0].lower()}@example.com")
        values = {"collections_user_id": cls.collector.id}
        if score is not None:
            values["collections_score"] = score
        server(partner.sudo().with_company(cls.company)).write(values)  # the score: as the nightly job sets it
        return partner

    def _mine(self):
        Worklist = self.env["collections.worklist"].with_user(self.collector)
        return Worklist.search([("user_id", "=", self.collector.id)])

    def test_ordered_by_priority(self):
        rows = self._mine()
        # priority = overdue x days late x (1 + (100 - score) / 100); no score counts as 50.
        self.assertEqual(rows.mapped("partner_id"), self.risky | self.unknown | self.reliable)
        self.assertEqual(rows.mapped("priority"), [95000.0, 75000.0, 55000.0])  # 1000x50x1.9, 5000x10x1.5, 1000x50x1.1
        unknown = rows.filtered(lambda r: r.partner_id == self.unknown)
        self.assertEqual((unknown.amount_overdue, unknown.amount_due, unknown.invoice_count, unknown.days_late),
                         (5000.0, 5700.0, 1, 10))
        self.assertEqual(unknown.stage, "to_contact")

    def test_only_the_collectors_customers_with_something_overdue(self):
        other = self._customer("Someone Else's", "else@example.com")
        self._invoice(other, 300.0, 20)
        paid = self._own_customer("Paid Up", score=80)
        self._pay(self._invoice(paid, 400.0, 30), 400.0)
        excluded = self._own_customer("Excluded Ltd", score=80)
        self._invoice(excluded, 400.0, 30)
        excluded.with_user(self.collector).collections_excluded = True
        partners = self._mine().mapped("partner_id")
        self.assertNotIn(other, partners)
        self.assertNotIn(paid, partners)
        self.assertNotIn(excluded, partners)
        # The other customer is the policy's default collector's.
        row = self.env["collections.worklist"].sudo().search([("partner_id", "=", other.id)])
        self.assertEqual(row.user_id, self.policy.user_id)

    def test_status_columns(self):
        self.reliable.activity_schedule(
            "mail.mail_activity_data_call", user_id=self.collector.id, date_deadline=TODAY + timedelta(days=1),
        )
        self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": self.unknown.id, "amount": 5000.0, "promised_date": TODAY + timedelta(days=5),
        })
        reason = self.env["collections.dispute.reason"].search([], limit=1)
        self.env["collections.dispute"].with_user(self.collector).create({
            "partner_id": self.risky.id, "reason_id": reason.id, "description": "Wrong price",
            "move_ids": [(6, 0, self.risky.invoice_ids.ids)],
        })
        stages = {row.partner_id: row for row in self._mine()}
        self.assertEqual(stages[self.reliable].stage, "call")
        self.assertEqual(stages[self.reliable].next_call, TODAY + timedelta(days=1))
        self.assertEqual(stages[self.unknown].stage, "promise")
        self.assertEqual(stages[self.unknown].promise_date, TODAY + timedelta(days=5))
        self.assertEqual(stages[self.risky].stage, "dispute")
        # The kanban (which asks for read_group_expand) shows every column, even empty ones.
        worklist = self.env["collections.worklist"].with_user(self.collector).with_context(read_group_expand=True)
        groups = worklist.web_read_group(
            [("user_id", "=", self.collector.id)], ["stage"], ["__count"],
        )["groups"]
        self.assertEqual([g["stage"] for g in groups], ["to_contact", "call", "promise", "plan", "dispute", "agency"])

    def test_quick_actions(self):
        row = self._mine()[:1]
        action = row.action_log_call()
        self.assertEqual(action["res_model"], "collections.call.wizard")
        self.assertEqual(action["context"]["default_partner_id"], self.risky.id)
        self.assertEqual(row.action_send()["res_model"], "collections.send.wizard")
        self.assertEqual(row.status, "action")
