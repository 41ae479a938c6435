"""Guards through every door: RPC (with a forged context), import, copy, as each role.

Each call goes through Odoo's RPC dispatcher (odoo.service.model.call_kw), as
XML-RPC and JSON-RPC do, not through the buttons."""
from odoo.exceptions import AccessError, UserError
from odoo.service.model import call_kw
from odoo.tests import freeze_time, new_test_user, tagged

from .common import TODAY, CollectionsCommon

FORGED = {"collections_server": True, "collections_scheduler": True, "collections_cron": True}


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestDoors(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._invoice(cls.customer, 1000.0, 30)
        cls.admin_accountant = new_test_user(
            cls.env, login="account_admin_test", name="Ada Admin", groups="account.group_account_manager",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )
        # Both edit customers in Odoo (Contact Creation), as the people who set limits do.
        (cls.manager | cls.admin_accountant).group_ids += cls.env.ref("base.group_partner_manager")

    def rpc(self, user, model, method, *args, **kwargs):
        return call_kw(self.env[model].with_user(user), method, list(args), kwargs)

    def _log_rows(self):
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM collections_action t")
        return self.env.cr.fetchone()

    # -- the log is evidence ------------------------------------------------

    def test_nobody_writes_the_log_directly(self):
        self._run()
        entry = self._actions(self.customer, channel="email")
        self.assertTrue(entry)
        before = self._log_rows()
        forged = {
            "partner_id": self.customer.id, "channel": "email", "origin": "scheduler",
            "user_id": self.manager.id, "date": "2025-01-01 08:00:00", "action_date": "2025-01-01",
            "note": "Reminder sent",
        }
        for user in (self.collector, self.manager, self.billing, self.salesman):
            for context in ({}, FORGED):
                with self.subTest(user=user.login, context=bool(context)):
                    with self.assertRaises(AccessError):
                        self.rpc(user, "collections.action", "create", forged, context=context)
                    with self.assertRaises(UserError):
                        self.rpc(user, "collections.action", "write", entry.ids, {"note": "edited"}, context=context)
                    with self.assertRaises(UserError):
                        self.rpc(user, "collections.action", "unlink", entry.ids, context=context)
                    with self.assertRaises(UserError):
                        self.rpc(user, "collections.action", "copy", entry.ids, context=context)
        # import reports the refusal in its messages, as Odoo's import screen shows it
        result = self.rpc(self.manager, "collections.action", "load", ["partner_id/.id", "channel"],
                          [[str(self.customer.id), "email"]])
        self.assertFalse(result["ids"])
        self.assertTrue(result["messages"])
        self.assertEqual(self._log_rows(), before, "the log did not change")

    def test_log_entries_say_who_and_when_themselves(self):
        """The server writer sets author and time; a caller's values for them are not taken."""
        entry = self.env["collections.action"].with_user(self.collector)._collections_log({
            "partner_id": self.customer.id, "company_id": self.company.id, "channel": "phone",
            "user_id": self.manager.id, "date": "2020-01-01 00:00:00", "origin": "manual",
        })
        self.assertEqual(entry.user_id, self.collector)
        self.assertEqual(entry.date.date(), TODAY)

    def test_a_forged_cron_context_does_not_make_a_scheduler_entry(self):
        promise = self.env["collections.promise"].with_user(self.collector).with_context(
            collections_cron=True,
        ).create({
            "partner_id": self.customer.id, "amount": 500.0, "promised_date": TODAY, "channel": "phone",
        })
        logged = self._actions(self.customer, channel="promise")
        self.assertTrue(promise and logged)
        self.assertEqual(set(logged.mapped("origin")), {"manual"})

    # -- invoices ---------------------------------------------------------

    def test_invoice_collection_fields_are_the_servers(self):
        payloads = [
            {"collections_level_id": self.level_final.id},
            {"collections_reminder_count": 0},
            {"collections_last_reminder_date": "2026-01-01"},
            {"collections_deferred_until": "2026-12-31"},
            {"collections_fee_source": True},
            {"collections_override_user_id": self.manager.id},
            {"collections_override_reason": "approved"},
        ]
        for user in (self.admin_accountant, self.billing, self.collector, self.manager):
            for values in payloads:
                with self.subTest(user=user.login, values=values), self.assertRaises(AccessError):
                    self.rpc(user, "account.move", "write", self.invoice.ids, values, context=FORGED)
        # create, with the value or as a default of the context, and copy with a default
        for user in (self.admin_accountant, self.manager):
            with self.subTest(door="create", user=user.login), self.assertRaises(AccessError):
                self.rpc(user, "account.move", "create", {
                    "move_type": "out_invoice", "partner_id": self.customer.id, "collections_fee_source": True,
                })
            with self.subTest(door="default", user=user.login), self.assertRaises(AccessError):
                self.rpc(user, "account.move", "create", {"move_type": "out_invoice", "partner_id": self.customer.id},
                         context={"default_collections_override_user_id": user.id})
            with self.subTest(door="copy", user=user.login), self.assertRaises(AccessError):
                self.rpc(user, "account.move", "copy", self.invoice.ids,
                         default={"collections_override_user_id": user.id})
        # import, as Odoo's import screen does it: refused, with the reason in the messages
        result = self.env["account.move"].with_user(self.admin_accountant).load(
            ["id", "collections_override_reason"], [[self.invoice._export_rows([["id"]])[0][0], "approved"]],
        )
        self.assertFalse(result["ids"])
        self.assertTrue(any("set by Collections itself" in message["message"] for message in result["messages"]))
        self.assertFalse(self.invoice.collections_override_user_id)
        self.assertFalse(self.invoice.collections_fee_source)

    # -- customers ---------------------------------------------------------

    def test_holds_are_set_by_the_wizard_only(self):
        for user in (self.salesman, self.collector, self.manager, self.admin_accountant):
            for values in ({"collections_credit_hold": False}, {"collections_credit_hold": True},
                           {"collections_hold_origin": "manual"}, {"collections_score": 100}):
                with self.subTest(user=user.login, values=values), self.assertRaises(AccessError):
                    self.rpc(user, "res.partner", "write", self.customer.ids, values, context=FORGED)
        with self.assertRaises(AccessError):
            self.rpc(self.manager, "res.partner", "create", {"name": "New", "collections_credit_hold": True})
        # the wizard is the door: checked, logged
        wizard = self.env["collections.hold.wizard"].with_user(self.manager).with_context(
            active_model="res.partner", active_ids=self.customer.ids, default_mode="hold",
        ).create({"reason": "Cheque bounced"})
        wizard.action_apply()
        self.assertTrue(self.customer.with_company(self.company).collections_credit_hold)
        self.assertTrue(self._actions(self.customer, channel="hold"))

    def test_credit_limits_by_managers_and_accounting_administrators(self):
        """Odoo's accounting administrators keep setting credit limits as without the addon."""
        self.company.account_use_credit_limit = True
        for user, limit in ((self.manager, 5000.0), (self.admin_accountant, 7000.0)):
            self.customer.with_user(user).write({"credit_limit": limit})
            self.assertEqual(self.customer.with_company(self.company).sudo().credit_limit, limit)
        history = self.env["collections.credit.limit.history"].sudo().search(
            [("partner_id", "=", self.customer.id)], order="id")
        self.assertEqual(history.mapped("new_limit"), [5000.0, 7000.0])
        self.assertEqual(history.user_id, self.manager | self.admin_accountant)
        for user in (self.collector, self.billing, self.salesman):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.rpc(user, "res.partner", "write", self.customer.ids, {"credit_limit": 0.0}, context=FORGED)
        with self.assertRaises(AccessError):
            self.rpc(self.manager, "collections.credit.limit.history", "create", {
                "partner_id": self.customer.id, "company_id": self.company.id, "user_id": self.collector.id,
                "old_limit": 0, "new_limit": 1,
            })

    # -- arrangements --------------------------------------------------------

    def test_collector_cannot_approve_a_settlement_by_writing_its_state(self):
        settlement = self.env["collections.settlement"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.invoice.ids)], "amount_agreed": 600.0,
            "deadline": TODAY, "reason": "Cash-flow trouble",
        })
        for values in ({"state": "approved"}, {"approved_by_id": self.manager.id}, {"amount_basis": 1.0}):
            with self.subTest(values=values), self.assertRaises(AccessError):
                self.rpc(self.collector, "collections.settlement", "write", settlement.ids, values, context=FORGED)
        with self.assertRaises(AccessError):
            self.rpc(self.collector, "collections.settlement", "create", {
                "partner_id": self.customer.id, "move_ids": [(6, 0, self.invoice.ids)], "amount_agreed": 600.0,
                "deadline": "2026-04-30", "reason": "x", "state": "approved",
            })
        copy_ids = self.rpc(self.collector, "collections.settlement", "copy", settlement.ids)
        copy = self.env["collections.settlement"].browse(copy_ids)
        self.assertEqual(copy.state, "draft")
        self.assertNotEqual(copy.name, settlement.name)
        self.assertEqual(settlement.state, "draft")
