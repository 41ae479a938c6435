from odoo.tests import HttpCase, tagged

from .common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestCollectorTour(CollectionsCommon, HttpCase):

    def test_collector_sends_a_followup_from_the_worklist(self):
        self.customer.name = "Tour Customer Ltd"
        invoice = self._invoice(self.customer, 1234.0, 10)
        self.collector.write({"password": "collector_test"})
        self.start_tour("/odoo", "collections_followup_collector_tour", login="collector_test")
        action = self._actions(self.customer, channel="email")
        self.assertEqual(action.origin, "manual")
        self.assertEqual(action.user_id, self.collector)
        self.assertIn(invoice, action.move_ids)
