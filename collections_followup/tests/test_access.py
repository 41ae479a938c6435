from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestAccess(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._invoice(cls.customer, 1000.0, 30)

    def test_salesperson_reads_status_but_cannot_change_it(self):
        partner = self.customer.with_user(self.salesman)
        self.assertEqual(partner.collections_status, "action")
        self.assertEqual(partner.collections_total_overdue, 1000.0)
        self.assertEqual(partner.collections_user_id, self.collector)
        for values in (
            {"collections_user_id": self.salesman.id},
            {"collections_excluded": True},
            {"collections_postponed_until": TODAY},
        ):
            with self.assertRaises(AccessError):
                partner.write(values)
        partner.write({"phone": "+32 2 555 01 01"})  # the rest of the customer stays editable
        with self.assertRaises(AccessError):
            self.env["collections.action"].with_user(self.salesman).search([])
        with self.assertRaises(AccessError):
            self.env["collections.send.wizard"].with_user(self.salesman).with_context(
                active_model="res.partner", active_ids=self.customer.ids,
            ).create({})

    def test_billing_user_reads_the_log_but_does_not_send(self):
        self._run()
        actions = self.env["collections.action"].with_user(self.billing).search([])
        self.assertTrue(actions)
        with self.assertRaises(AccessError):
            self.env["collections.send.wizard"].with_user(self.billing).with_context(
                active_model="res.partner", active_ids=self.customer.ids,
            ).create({})
        with self.assertRaises(AccessError):
            self.customer.with_user(self.billing).write({"collections_excluded": True})

    def test_collector_sets_collector_fields_not_policies(self):
        partner = self.customer.with_user(self.collector)
        partner.write({"collections_excluded": True})
        self.assertEqual(partner.collections_status, "excluded")
        with self.assertRaises(AccessError):
            self.policy.with_user(self.collector).write({"name": "Softer"})
        with self.assertRaises(AccessError):
            self.level_first.with_user(self.collector).write({"delay": 3})
        self.policy.with_user(self.manager).write({"name": "Softer"})

    def test_nobody_edits_or_deletes_the_log(self):
        self._run()
        action = self._actions(self.customer)[:1]
        with self.assertRaises(UserError):  # AccessError is a UserError
            action.with_user(self.collector).write({"state": "failed"})
        with self.assertRaises(UserError):
            action.with_user(self.manager).sudo().write({"state": "failed"})
        with self.assertRaises(UserError):
            action.sudo().unlink()
