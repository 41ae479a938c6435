from datetime import date, timedelta

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from ..models.collections_guard import server
from .common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestDashboard(CollectionsCommon, HttpCase):
    """The dashboard's numbers are the snapshot's and the ledger's.

    No freeze_time (the browser runs on the real clock): the book is dated
    relative to the real today, as in TestKpiSnapshot's hand computation:
    ending AR 4,000 of which 2,000 not yet due, sales 5,000 over 90 days."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.name = "Dashboard Customer Ltd"
        today = date.today()
        # _invoice dates relative to the common TODAY: shift to the real today.
        shift = (today - date(2026, 3, 31)).days
        a = cls._invoice(cls.customer, 1000.0, 90 - shift)
        cls._pay(a, 1000.0, a.invoice_date_due + timedelta(days=15))
        b = cls._invoice(cls.customer, 3000.0, 50 - shift)
        cls._pay(b, 1000.0, b.invoice_date_due + timedelta(days=11))
        cls._invoice(cls.customer, 2000.0, -19 - shift)

    def test_figures_for_a_collector_and_refused_to_a_salesperson(self):
        data = self.env["collections.dashboard"].with_user(self.collector).get_data()
        tiles = {tile["key"]: tile for tile in data["tiles"]}
        self.assertEqual(tiles["dso"]["value"], 72.0)
        self.assertEqual(tiles["ar_overdue"]["value"], 2000.0)
        self.assertEqual(tiles["cei"]["value"], 50.0)
        # No promise kept or broken in the period: no rate (not 0 %, read as "every promise broken").
        self.assertEqual((tiles["promise_kept_rate"]["value"], tiles["promise_kept_rate"]["trend"]), (None, None))
        promise = self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "amount": 100.0, "promised_date": date.today() + timedelta(days=3),
            "channel": "phone"})
        server(promise.sudo()).write({"state": "broken", "closed_date": date.today() - timedelta(days=1)})
        tiles = {tile["key"]: tile for tile in self.env["collections.dashboard"].with_user(self.collector).get_data()[
            "tiles"]}
        self.assertEqual(tiles["promise_kept_rate"]["value"], 0.0, "one promise, broken: 0 %")
        self.assertEqual(sum(row["amount"] for row in data["aging"]), 4000.0, "aging totals equal the ledger")
        self.assertEqual([c["name"] for c in data["customers"]], ["Dashboard Customer Ltd"])
        self.assertEqual(data["collectors"][0]["name"], "Colin Collector")
        # B's 1,000 was paid 11 days after its due date: no contact then, nothing counted yet.
        self.assertEqual(data["collectors"][0]["paid_after_contact"], 0.0)
        with self.assertRaises(AccessError):
            self.env["collections.dashboard"].with_user(self.salesman).get_data()

    def test_dashboard_tour(self):
        self.collector.write({"password": "collector_test"})
        self.start_tour("/odoo", "collections_followup_dashboard_tour", login="collector_test")
