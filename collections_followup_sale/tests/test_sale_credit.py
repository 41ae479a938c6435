import json

from odoo.exceptions import AccessError, UserError
from odoo.service.model import call_kw
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.collections_followup.tests.common import CollectionsCommon

ONE_PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@tagged("post_install", "-at_install")
class TestSaleCredit(CollectionsCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.account_use_credit_limit = True
        cls.seller = new_test_user(
            cls.env, login="seller_test", password="seller_test", name="Sally Seller",
            email="sally@company.example.com", groups="sales_team.group_sale_salesman",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )
        cls.manager.write({"password": "manager_test"})
        cls.customer.name = "Held Customer Inc"

    def _order(self, amount=500.0, user=None):
        return self.env["sale.order"].with_user(user or self.seller).create({
            "partner_id": self.customer.id,
            "order_line": [(0, 0, {
                "product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": amount, "tax_ids": [],
            })],
        })

    def test_salesperson_opens_a_dispute_on_an_invoice_of_its_customer(self):
        invoice = self._invoice(self.customer, 400.0, 10)
        invoice.invoice_user_id = self.seller
        action = invoice.with_user(self.seller).action_collections_dispute()
        dispute = self.env["collections.dispute"].with_user(self.seller).with_context(**action["context"]).create({
            "reason_id": self.env.ref("collections_followup.dispute_reason_price").id,
            "description": "Customer was promised the spring discount",
        })
        self.assertEqual(dispute.origin, "sales")
        self.assertEqual(dispute.move_ids, invoice)
        self.assertEqual(dispute.with_user(self.collector).activity_ids.user_id, self.collector)

    def _hold(self, reason="Three invoices over 60 days"):
        self.env["collections.hold.wizard"].with_user(self.manager).with_context(
            active_model="res.partner", active_ids=self.customer.ids,
        ).create({"mode": "hold", "reason": reason}).action_apply()

    def _override(self, order, reason="Prepaid by wire"):
        context = order.with_user(self.manager).action_collections_override()["context"]
        self.env["collections.override.wizard"].with_user(self.manager).with_context(**context).create(
            {"reason": reason},
        ).action_override()

    def test_hold_blocks_the_salesperson_and_says_why_and_who(self):
        order = self._order()
        self._hold()
        self.assertEqual(order.with_user(self.seller).collections_credit_state, "red")
        with self.assertRaisesRegex(UserError, "on credit hold.*Three invoices over 60 days.*Collections Manager"):
            order.with_user(self.seller).action_confirm()
        self.assertEqual(order.state, "draft")

    def test_manager_override_lets_one_order_through_and_is_logged(self):
        order, other = self._order(), self._order()
        self._hold()
        with self.assertRaises(AccessError):
            self.env["collections.override.wizard"].with_user(self.seller).with_context(
                **order.action_collections_override()["context"]
            ).create({"reason": "please"})
        self._override(order)
        order.with_user(self.seller).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.collections_override_user_id, self.manager)
        log = self._actions(self.customer, channel="override")
        self.assertEqual(log.user_id, self.manager)
        self.assertIn("Prepaid by wire", log.note)
        self.assertTrue(self.customer.collections_credit_hold, "the hold stays for everything else")
        with self.assertRaises(UserError):
            other.with_user(self.seller).action_confirm()

    def test_copy_of_an_overridden_order_is_blocked_again(self):
        order = self._order()
        self._hold()
        self._override(order)
        copy = order.with_user(self.seller).copy()
        self.assertFalse(copy.collections_override_user_id)
        with self.assertRaises(UserError):
            copy.action_confirm()

    def test_over_limit_in_block_mode_names_amount_and_limit(self):
        self.customer.with_company(self.company).with_user(self.manager).credit_limit = 1000.0
        self.policy.with_user(self.manager).credit_limit_mode = "block"
        first = self._order(700.0)
        first.with_user(self.seller).action_confirm()
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.collections_exposure_orders, 700.0)
        second = self._order(400.0)
        with self.assertRaisesRegex(UserError, r"1,100\.00.*credit limit of .*1,000\.00.*by .*100\.00"):
            second.with_user(self.seller).action_confirm()
        self.policy.with_user(self.manager).credit_limit_mode = "warn"
        second.with_user(self.seller).action_confirm()
        self.assertEqual(second.state, "sale")

    def test_orders_of_products_invoiced_on_delivery_count_from_confirmation(self):
        """Odoo counts an order of products invoiced on delivery only once delivered (credit_to_invoice 0 before):
        two orders each under the limit would both confirm. Ours counts what the customer ordered, until a
        posted invoice holds it."""
        self.product_a.sudo().write({"invoice_policy": "delivery", "type": "consu"})
        self.customer.with_company(self.company).with_user(self.manager).credit_limit = 1000.0
        self.policy.with_user(self.manager).credit_limit_mode = "block"
        first = self._order(700.0)
        first.with_user(self.seller).action_confirm()
        self.assertEqual(first.amount_to_invoice, 0.0, "Odoo counts nothing of an order not delivered")
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.collections_exposure_orders, 700.0)
        second = self._order(400.0)
        with self.assertRaisesRegex(UserError, r"1,100\.00.*credit limit of .*1,000\.00"):
            second.with_user(self.seller).action_confirm()
        self.assertEqual(second.state, "draft")
        # Delivered and invoiced: in the draft, still the order's; once posted, the receivable's, counted once.
        first.order_line.sudo().qty_delivered = 1
        invoice = first.sudo()._create_invoices()
        self.customer.invalidate_recordset()
        self.assertEqual((self.customer.collections_exposure_orders, self.customer.collections_exposure_draft,
                          self.customer.collections_exposure), (700.0, 0.0, 700.0))
        invoice.action_post()
        self.customer.invalidate_recordset()
        self.assertEqual((self.customer.collections_exposure_orders, self.customer.collections_exposure_receivable,
                          self.customer.collections_exposure), (0.0, 700.0, 700.0))
        with self.assertRaisesRegex(UserError, r"1,100\.00.*credit limit of .*1,000\.00"):
            second.with_user(self.seller).action_confirm()

    def test_orders_confirmed_together_count_together(self):
        """Each under the limit, together over it: confirming both in one call is blocked."""
        self.customer.with_company(self.company).with_user(self.manager).credit_limit = 1000.0
        self.policy.with_user(self.manager).credit_limit_mode = "block"
        orders = self._order(600.0) | self._order(600.0)
        with self.assertRaisesRegex(UserError, r"1,200\.00.*credit limit of .*1,000\.00"):
            orders.with_user(self.seller).action_confirm()
        self.assertEqual(set(orders.mapped("state")), {"draft"})
        orders[0].with_user(self.seller).action_confirm()
        self.assertEqual(orders[0].state, "sale")

    def test_confirmation_through_rpc_is_blocked(self):
        order = self._order()
        self._hold()
        self.authenticate("seller_test", "seller_test")
        response = self.url_open("/web/dataset/call_kw/sale.order/action_confirm", data=json.dumps({
            "jsonrpc": "2.0", "method": "call",
            "params": {"model": "sale.order", "method": "action_confirm", "args": [order.ids], "kwargs": {}},
        }), headers={"Content-Type": "application/json"})
        error = response.json().get("error")
        self.assertTrue(error)
        self.assertIn("on credit hold", error["data"]["message"])
        self.assertEqual(order.state, "draft")

    def test_quotation_accepted_on_the_portal_is_blocked_without_internal_details(self):
        order = self._order()
        order.require_signature = True
        order.require_payment = False
        self._hold()
        contact = self.env["res.partner"].create({
            "name": "Cust Omer", "parent_id": self.customer.id, "email": "cust.omer@example.com",
        })
        portal_user = new_test_user(
            self.env, login="portal_customer", password="portal_customer", groups="base.group_portal",
            partner_id=contact.id,
        )
        self.assertTrue(portal_user.share)
        self.authenticate("portal_customer", "portal_customer")
        response = self.url_open(f"/my/orders/{order.id}/accept", data=json.dumps({
            "jsonrpc": "2.0", "method": "call",
            "params": {"access_token": order._portal_ensure_token(), "name": "Cust Omer", "signature": ONE_PIXEL_PNG},
        }), headers={"Content-Type": "application/json"})
        error = response.json().get("error")
        self.assertTrue(error, response.text[:500])
        self.assertIn("cannot confirm this order online", error["data"]["message"])
        self.assertNotIn("Three invoices", error["data"]["message"], "the internal reason stays internal")
        order.invalidate_recordset()
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.signed_by, "nothing half-written: the signature is rolled back too")

    def test_salesperson_reads_credit_but_cannot_change_it(self):
        self._hold()
        partner = self.customer.with_user(self.seller)
        self.assertTrue(partner.collections_credit_hold)
        self.assertIn("Three invoices", partner.collections_credit_message)
        with self.assertRaises(AccessError):
            partner.write({"collections_credit_hold": False})
        with self.assertRaises(AccessError):
            partner.with_company(self.company).write({"credit_limit": 1.0})

    # -- doors: RPC with the override fields, an override that travels --------

    def _rpc(self, user, model, method, *args, **kwargs):
        return call_kw(self.env[model].with_user(user), method, list(args), kwargs)

    def test_salesperson_cannot_write_an_override_through_rpc(self):
        order = self._order()
        self._hold()
        forged = {"collections_server": True}
        for values in (
            {"collections_override_user_id": self.manager.id, "collections_override_reason": "ok"},
            {"collections_override_amount": 1e9},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                self._rpc(self.seller, "sale.order", "write", order.ids, values, context=forged)
        with self.assertRaises(AccessError):
            self._rpc(self.seller, "sale.order", "create", {
                "partner_id": self.customer.id, "collections_override_user_id": self.manager.id,
            })
        with self.assertRaises(AccessError):
            self._rpc(self.seller, "sale.order", "create", {"partner_id": self.customer.id},
                      context={"default_collections_override_user_id": self.manager.id})
        with self.assertRaisesRegex(UserError, "on credit hold"):
            self._rpc(self.seller, "sale.order", "action_confirm", order.ids)
        self.assertEqual(order.state, "draft")

    def test_override_does_not_travel_to_another_customer(self):
        other = self._customer("Clean Customer", "clean@example.com")
        order = self.env["sale.order"].with_user(self.seller).create({
            "partner_id": other.id,
            "order_line": [(0, 0, {"product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": 100.0,
                                   "tax_ids": []})],
        })
        self._hold()
        self._override(order, "Other customer, fine")
        self.assertEqual(order.collections_override_partner_id, other)
        # the salesperson moves the approved order to the held customer
        self._rpc(self.seller, "sale.order", "write", order.ids, {"partner_id": self.customer.id})
        self.assertFalse(order.collections_override_user_id, "voided")
        voided = self._actions(other, channel="override_void")
        self.assertIn("the customer changed", voided.note)
        with self.assertRaisesRegex(UserError, "on credit hold"):
            self._rpc(self.seller, "sale.order", "action_confirm", order.ids)

    def test_override_is_bound_to_the_approved_total(self):
        self._hold()
        raised, lowered = self._order(500.0), self._order(500.0)
        self._override(raised)
        self._override(lowered)
        self.assertEqual(raised.collections_override_amount, 500.0)
        # a line written directly over RPC raises the total: voided, checked again
        self._rpc(self.seller, "sale.order.line", "write", raised.order_line.ids, {"price_unit": 5000.0})
        self.assertFalse(raised.collections_override_user_id)
        self.assertIn("rose from", self._actions(self.customer, channel="override_void").note)
        with self.assertRaisesRegex(UserError, "on credit hold"):
            self._rpc(self.seller, "sale.order", "action_confirm", raised.ids)
        # lowering it keeps the override
        self._rpc(self.seller, "sale.order.line", "write", lowered.order_line.ids, {"price_unit": 300.0})
        self.assertEqual(lowered.collections_override_user_id, self.manager)
        self._rpc(self.seller, "sale.order", "action_confirm", lowered.ids)
        self.assertEqual(lowered.state, "sale")

    def test_tour_salesperson_sees_the_hold_and_manager_overrides(self):
        order = self._order()
        self._hold()
        self.start_tour(f"/odoo/sales/{order.id}", "collections_sale_blocked_tour", login="seller_test")
        self.assertEqual(order.state, "draft")
        self.start_tour(
            f"/odoo/res.partner/{self.customer.id}", "collections_sale_customer_banner_tour", login="seller_test",
        )
        self.start_tour(f"/odoo/sales/{order.id}", "collections_sale_override_tour", login="collections_manager_test")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.collections_override_user_id, self.manager)
