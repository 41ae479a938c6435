"""The credit rule on the stored sales order: whatever road confirms it, enlarges it or bills it to another.

Through XML-RPC against the served database as the salesperson (the real road), then a generated table:
every road that can leave an order in "sale" x every role, for a customer on hold."""
import logging
from collections import Counter
from xmlrpc.client import Fault

import psycopg2

from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.collections_followup.tests.common import CollectionsCommon

_logger = logging.getLogger(__name__)
REFUSALS = (AccessError, MissingError, UserError, ValidationError, psycopg2.Error)


@tagged("post_install", "-at_install")
class TestSaleControls(CollectionsCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.account_use_credit_limit = True
        cls.seller = new_test_user(
            cls.env, login="seller_controls", password="seller_controls", name="Sid Seller",
            groups="sales_team.group_sale_salesman", company_id=cls.company.id, company_ids=[cls.company.id],
        )
        cls.customer.name = "Quartz Medical Supplies"
        cls.clean = cls._customer("Clean Customer", "clean@example.com")

    def _order(self, partner=None, amount=500.0, **values):
        return self.env["sale.order"].with_user(self.seller).create({
            "partner_id": (partner or self.customer).id,
            "order_line": [(0, 0, {"product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": amount,
                                   "tax_ids": []})],
            **values,
        })

    def _hold(self, partner=None):
        self.env["collections.hold.wizard"].with_user(self.manager).with_context(
            active_model="res.partner", active_ids=(partner or self.customer).ids,
        ).create({"mode": "hold", "reason": "Cheque bounced"}).action_apply()

    def _rpc(self, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, self.seller.id, "seller_controls", model, method,
                                             list(args), kwargs)

    def _state(self, order):
        order.invalidate_recordset()
        return order.state

    def test_writing_the_state_of_a_held_customers_quotation_is_refused(self):
        order = self._order()
        self._hold()
        with self.assertRaisesRegex(Fault, "on credit hold"), mute_logger("odoo.http"):
            self._rpc("sale.order", "write", [order.id], {"state": "sale"})
        self.assertEqual(self._state(order), "draft")
        with self.assertRaisesRegex(Fault, "on credit hold"), mute_logger("odoo.http"):
            self._rpc("sale.order", "create", {
                "partner_id": self.customer.id, "state": "sale",
                "order_line": [[0, 0, {"product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": 10.0}]],
            })
        self.assertFalse(self.env["sale.order"].search([("partner_id", "=", self.customer.id), ("state", "=", "sale")]))
        # A customer in good standing: the same write confirms.
        clean = self._order(self.clean)
        self._rpc("sale.order", "write", [clean.id], {"state": "sale"})
        self.assertEqual(self._state(clean), "sale")

    def test_a_confirmed_order_cannot_grow_past_the_limit(self):
        self.customer.with_company(self.company).with_user(self.manager).credit_limit = 1000.0
        self.policy.with_user(self.manager).credit_limit_mode = "block"
        order = self._order(amount=800.0)
        order.action_confirm()
        line = order.order_line
        with self.assertRaisesRegex(Fault, "over its credit limit"), mute_logger("odoo.http"):
            self._rpc("sale.order.line", "write", [line.id], {"product_uom_qty": 2})
        with self.assertRaisesRegex(Fault, "over its credit limit"), mute_logger("odoo.http"):
            self._rpc("sale.order", "write", [order.id], {"order_line": [[0, 0, {
                "product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": 300.0, "tax_ids": []}]]})
        order.invalidate_recordset()
        self.assertEqual(order.amount_total, 800.0)
        # Within the limit, it may grow; a lower total is never refused.
        self._rpc("sale.order.line", "write", [line.id], {"price_unit": 950.0})
        self._rpc("sale.order.line", "write", [line.id], {"price_unit": 600.0})
        order.invalidate_recordset()
        self.assertEqual(order.amount_total, 600.0)

    def test_a_confirmed_order_does_not_grow_by_a_down_payment_line_or_a_moved_line(self):
        """Found from outside: a down payment line of 5,000 and a line moved in from a quotation grew a confirmed
        order past the limit."""
        self.customer.with_company(self.company).with_user(self.manager).credit_limit = 1000.0
        self.policy.with_user(self.manager).credit_limit_mode = "block"
        order = self._order(amount=800.0)
        order.action_confirm()
        with self.assertRaisesRegex(Fault, "over its credit limit"), mute_logger("odoo.http"):
            self._rpc("sale.order.line", "create", {"order_id": order.id, "is_downpayment": True, "name": "Down",
                                                    "product_uom_qty": 1, "price_unit": 5000.0, "tax_ids": []})
        quotation = self._order(amount=5750.0)
        with self.assertRaisesRegex(Fault, "over its credit limit"), mute_logger("odoo.http"):
            self._rpc("sale.order.line", "write", quotation.order_line.ids, {"order_id": order.id})
        order.invalidate_recordset()
        self.assertEqual(order.amount_total, 800.0)

    def test_an_order_invoiced_in_draft_counts_once(self):
        """The ledger issue's sale case: an 800 order invoiced, the invoice still in draft: exposure 800 (Odoo counts
        the order until its invoice is posted), not 1,600."""
        order = self._order(self.clean, amount=800.0)
        order.action_confirm()
        exposure = self.clean.with_company(self.company).sudo()
        exposure.invalidate_recordset()
        self.assertEqual(exposure.collections_exposure_orders + exposure.collections_exposure_draft, 800.0)
        invoice = order.sudo()._create_invoices()
        self.assertEqual(invoice.state, "draft")
        exposure.invalidate_recordset()
        self.assertEqual((exposure.collections_exposure_orders, exposure.collections_exposure_draft), (800.0, 0.0))
        invoice.action_post()
        exposure.invalidate_recordset()
        self.assertEqual((exposure.collections_exposure_receivable, exposure.collections_exposure_orders,
                          exposure.collections_exposure_draft), (800.0, 0.0, 0.0))

    def test_the_invoiced_customer_counts(self):
        self._hold()
        order = self._order(self.clean, partner_invoice_id=self.customer.id)
        with self.assertRaisesRegex(Fault, "Quartz Medical Supplies is on credit hold"), mute_logger("odoo.http"):
            self._rpc("sale.order", "action_confirm", [order.id])
        self.assertEqual(self._state(order), "draft")
        # A confirmed order then billed to a held customer: refused too.
        other = self._order(self.clean)
        other.action_confirm()
        with self.assertRaisesRegex(Fault, "on credit hold"), mute_logger("odoo.http"):
            self._rpc("sale.order", "write", [other.id], {"partner_invoice_id": self.customer.id})
        other.invalidate_recordset()
        self.assertEqual(other.partner_invoice_id, self.clean)

    def test_no_road_confirms_a_held_customers_order_as_any_role(self):
        """Generated: every road that can leave an order in "sale" x every role (the manager too: a hold is
        lifted or overridden with the override wizard, never by writing the state)."""
        self._hold()
        portal = new_test_user(self.env, login="portal_sale_roads", groups="base.group_portal")
        portal.partner_id.parent_id = self.customer
        roles = {"portal": portal, "salesperson": self.seller, "billing": self.billing, "collector": self.collector,
                 "manager": self.manager}
        confirmed = self._order(self.clean)
        confirmed.action_confirm()
        line = {"product_id": self.product_a.id, "product_uom_qty": 1, "price_unit": 100.0, "tax_ids": []}

        def base():
            return {"partner_id": self.customer.id, "order_line": [(0, 0, dict(line))]}

        def load(Orders, quotes):
            result = Orders.load(["id", "state"], [[quotes[:1].sudo()._export_rows([["id"]])[0][0], "sale"]])
            if not result["ids"]:
                raise UserError(str(result["messages"]))
            return Orders.browse(result["ids"])

        def user_default(Orders):
            self.env["ir.default"].with_user(Orders.env.user).set("sale.order", "state", "sale", user_id=True)
            return Orders.create(base())

        roads = {
            "create": lambda Orders, quotes: Orders.create({**base(), "state": "sale"}),
            "default_context": lambda Orders, quotes: Orders.with_context(default_state="sale").create(base()),
            "user_default": lambda Orders, quotes: user_default(Orders),
            "write": lambda Orders, quotes: quotes[:1].with_env(Orders.env).write({"state": "sale"}) and quotes[:1],
            "write_many": lambda Orders, quotes: quotes.with_env(Orders.env).write({"state": "sale"}) and quotes,
            "web_save": lambda Orders, quotes: quotes[:1].with_env(Orders.env).web_save({"state": "sale"}, {})
            and quotes[:1],
            "load": load,
            "action_confirm": lambda Orders, quotes: quotes.with_env(Orders.env).action_confirm() and quotes,
            "rebill": lambda Orders, quotes: confirmed.with_env(Orders.env).write(
                {"partner_invoice_id": self.customer.id}) and confirmed,
        }
        table, confirmed_held = Counter(), []
        for road, go in roads.items():
            for role, user in roles.items():
                quotes = self._order() | self._order()
                savepoint = self.env.cr.savepoint()
                try:
                    with mute_logger("odoo.sql_db", "odoo.models", "odoo.addons.base.models.ir_model",
                                     "odoo.addons.base.models.ir_rule"):
                        orders = go(self.env["sale.order"].with_user(user), quotes)
                        self.env.flush_all()
                        orders = self.env["sale.order"].browse(orders.ids if orders else [])
                        orders.invalidate_recordset()
                        held = orders.sudo().filtered(lambda o: o.state == "sale" and self.customer in (
                            o.partner_id | o.partner_invoice_id).commercial_partner_id)
                        outcome = "CONFIRMED" if held else "not confirmed"
                except REFUSALS:
                    outcome = "refused"
                finally:
                    savepoint.close(rollback=True)
                    self.env.invalidate_all()
                    if road == "user_default":
                        self.env.registry.clear_cache()  # the planted ir.default, cached by Odoo
                table[road, outcome] += 1
                if outcome == "CONFIRMED":
                    confirmed_held.append(f"{role} through {road}")
        _logger.info("Held customer's orders, roads x roles: %s", dict(table))
        self.assertFalse(confirmed_held, "a held customer's order was confirmed:\n" + "\n".join(confirmed_held))
        self.assertEqual(sum(table.values()), len(roads) * len(roles))
