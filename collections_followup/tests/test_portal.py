import base64
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestCollectionsPortal(CollectionsCommon, HttpCase):
    """The customer's side: its own balance, plans and promises, nobody else's.

    No freeze_time: the browser runs on the real clock. Invoices dated around
    the common TODAY are simply long overdue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.name = "Portal Customer SA"
        cls.portal_user = new_test_user(
            cls.env, login="portal_paula", name="Paula Portal", email="paula@example.com",
            groups="base.group_portal", password="portal_paula",
        )
        cls.portal_user.partner_id.parent_id = cls.customer
        cls.inv_a = cls._invoice(cls.customer, 600.0, 40)
        cls.inv_b = cls._invoice(cls.customer, 300.0, 30)
        cls.stranger = cls._customer("Stranger Ltd", "stranger@example.com")
        cls.stranger_user = new_test_user(
            cls.env, login="portal_sam", name="Sam Stranger", email="sam@stranger.example.com",
            groups="base.group_portal", password="portal_sam",
        )
        cls.stranger_user.partner_id.parent_id = cls.stranger
        cls.today = fields.Date.context_today(cls.env.user)

    def _proposed_plan(self):
        plan = self.env["collections.payment.plan"].with_user(self.collector).create({
            "partner_id": self.customer.id,
            "move_ids": [(6, 0, self.inv_a.ids)],
            "instalment_count": 3,
            "first_date": self.today + timedelta(days=5),
        })
        plan.action_compute_schedule()
        plan.action_propose()
        return plan

    def test_balance_page_shows_own_invoices_only(self):
        other = self._invoice(self.stranger, 999.0, 10)
        self.authenticate("portal_paula", "portal_paula")
        page = self.url_open("/my/collections")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.inv_a.name, page.text)
        self.assertNotIn(other.name, page.text)
        statement = self.url_open("/my/collections/statement")
        self.assertEqual(statement.status_code, 200)
        self.assertIn("Statement%20Portal%20Customer%20SA", statement.headers["Content-Disposition"])
        # The account link's parameters are no way into another customer's account from the portal.
        page = self.url_open(f"/my/collections?customer={self.stranger.id}&token=x&message=x")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.inv_a.name, page.text)
        self.assertNotIn(other.name, page.text)
        # The page says where the reminders go: the customer's address, then its follow-up contact's.
        self.assertIn("We send payment reminders to <strong>acme@example.com</strong>", page.text)
        self.portal_user.partner_id.sudo().collections_followup_role = "to"
        page = self.url_open("/my/collections")
        self.assertIn("We send payment reminders to <strong>paula@example.com</strong>", page.text)

    def test_another_customers_plan_is_not_found(self):
        plan = self._proposed_plan()
        self.authenticate("portal_sam", "portal_sam")
        self.assertEqual(self.url_open(plan.access_url).status_code, 404)
        self.assertEqual(self.url_open(f"{plan.access_url}?access_token=wrong").status_code, 404)
        self.assertEqual(self.url_open(f"{plan.access_url}?report_type=pdf").status_code, 404)
        accept = self.make_jsonrpc_request(f"{plan.access_url}/accept", {"name": "Sam", "signature": "eA=="})
        self.assertIn("error", accept)
        self.assertEqual(plan.state, "proposed")

    def test_own_plan_opens_and_the_emailed_link_works_without_login(self):
        plan = self._proposed_plan()
        self.authenticate("portal_paula", "portal_paula")
        self.assertIn(plan.name, self.url_open(plan.access_url).text)
        self.authenticate(None, None)
        self.assertEqual(self.url_open(plan.get_portal_url()).status_code, 200)

    def test_draft_plan_is_not_shown_even_with_its_token(self):
        plan = self.env["collections.payment.plan"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.inv_a.ids)],
        })
        plan._portal_ensure_token()
        self.authenticate("portal_paula", "portal_paula")
        self.assertEqual(self.url_open(plan.get_portal_url()).status_code, 404)

    def test_signature_is_required_and_kept_with_date_and_ip(self):
        plan = self._proposed_plan()
        self.authenticate("portal_paula", "portal_paula")
        url = f"{plan.access_url}/accept"
        self.assertIn("error", self.make_jsonrpc_request(url, {"name": "Paula", "signature": ""}))
        self.assertEqual(plan.state, "proposed")
        png = base64.b64encode(self.env.company.partner_id._avatar_get_placeholder()).decode()
        result = self.make_jsonrpc_request(url, {"name": "Paula Portal", "signature": png})
        self.assertTrue(result.get("force_refresh"), result)
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.accepted_channel, "portal")
        self.assertEqual(plan.accepted_by, "Paula Portal")
        self.assertEqual(plan.accepted_ip, "127.0.0.1")
        self.assertTrue(plan.signature)

    def test_promise_from_the_portal(self):
        self.authenticate("portal_paula", "portal_paula")
        page = self.url_open("/my/collections")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        data = {"csrf_token": token, "promised_date": str(self.today + timedelta(days=200)), "amount": "100"}
        refused = self.url_open("/my/collections/promise", data=data)
        self.assertIn("for a later date, please contact us", refused.text)
        self.assertFalse(self.env["collections.promise"].search([("partner_id", "=", self.customer.id)]))
        data.update(promised_date=str(self.today + timedelta(days=10)), amount="900")
        self.url_open("/my/collections/promise", data=data)
        self.env.invalidate_all()  # the request wrote through its own environment
        promise = self.env["collections.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(promise.channel, "portal")
        self.assertEqual(promise.move_ids, self.inv_a | self.inv_b)
        # (self.env is the portal customer's since authenticate(); the collector reads its tasks.)
        self.assertEqual(promise.with_user(self.collector).activity_ids.user_id, self.collector,
                         "the collector hears of it")
        self.assertEqual(self.customer.with_user(self.collector).collections_status, "waiting")

    def test_dispute_from_the_portal_reaches_the_collector(self):
        self.authenticate("portal_paula", "portal_paula")
        page = self.url_open("/my/collections")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        reason = self.env.ref("collections_followup.dispute_reason_price")
        foreign = self._invoice(self.stranger, 999.0, 10)
        refused = self.url_open("/my/collections/dispute", data={
            "csrf_token": token, "invoice_id": foreign.id, "reason_id": reason.id,
            "description": "Not my invoice at all",
        })
        self.assertIn("Choose one of your open invoices", refused.text)
        self.url_open("/my/collections/dispute", data={
            "csrf_token": token, "invoice_id": self.inv_b.id, "reason_id": reason.id,
            "description": "The agreed 10% discount is missing",
        })
        self.env.invalidate_all()
        dispute = self.env["collections.dispute"].with_user(self.collector).search([])
        self.assertEqual(dispute.move_ids, self.inv_b)
        self.assertEqual(dispute.origin, "portal")
        self.assertEqual(dispute.activity_ids.user_id, self.collector)
        self.assertIn("Disputed", self.url_open("/my/collections").text)

    def test_portal_tour_accept_plan_and_promise(self):
        plan = self._proposed_plan()
        self.start_tour("/my/collections", "collections_followup_portal_tour", login="portal_paula")
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.accepted_by, "Paula Portal")
        promise = self.env["collections.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(promise.move_ids, self.inv_b, "the invoice outside the plan")
        self.assertEqual(promise.promised_date, self.today + timedelta(days=7))

    def test_balance_page_states_the_ledger_instalments_and_credits(self):
        """Each open instalment with its own due date, the credits not yet applied, and a total due net of
        them. Before: one row per invoice with the last instalment's due date, credits left out of the
        total (600 + 300 + 1,000 shown as due, not 1,800)."""
        term = self.env["account.payment.term"].create({"name": "30/70", "line_ids": [
            (0, 0, {"value": "percent", "value_amount": 30.0, "nb_days": 0}),
            (0, 0, {"value": "percent", "value_amount": 70.0, "nb_days": 60}),
        ]})
        instalments = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_date": self.today - timedelta(days=20), "invoice_payment_term_id": term.id,
            "invoice_line_ids": [(0, 0, {"name": "Machine", "quantity": 1, "price_unit": 1000.0,
                                         "tax_ids": [(6, 0, [])]})],
        })
        refund = self.env["account.move"].create({
            "move_type": "out_refund", "partner_id": self.customer.id, "invoice_date": self.today,
            "invoice_line_ids": [(0, 0, {"name": "Returned", "quantity": 1, "price_unit": 100.0,
                                         "tax_ids": [(6, 0, [])]})],
        })
        (instalments | refund).action_post()
        self.authenticate("portal_paula", "portal_paula")
        page = self.url_open("/my/collections").text
        self.assertIn(f"{instalments.name}, instalment 1 of 2", page)
        self.assertIn(f"{instalments.name}, instalment 2 of 2", page)
        self.assertIn("Credits not yet applied", page)
        self.assertIn(refund.name, page)
        self.assertIn("1,800.00", page, "600 + 300 + 1,000 - 100: the net total due")
        self.assertIn("1,200.00", page, "overdue: 600 + 300 + the first instalment's 300")
