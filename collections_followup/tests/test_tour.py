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

    def test_collector_logs_a_call_from_my_collections(self):
        self.customer.write({
            "name": "Tour Caller Ltd", "phone": "02 555 12 34", "country_id": self.env.ref("base.be").id,
        })
        self._invoice(self.customer, 880.0, 10)
        self.collector.write({"password": "collector_test"})
        self.start_tour("/odoo", "collections_followup_call_tour", login="collector_test")
        log = self._actions(self.customer, channel="phone")
        self.assertEqual((log.call_outcome, log.user_id), ("no_answer", self.collector))
        self.assertIn("Voicemail, left a message", log.note)
        calls = self.customer.activity_ids.filtered(lambda a: a.activity_type_id.category == "phonecall")
        self.assertEqual(calls.user_id, self.collector, "the next call is on the collector's list")
