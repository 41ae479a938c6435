from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, new_test_user, tagged

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

    def test_salesperson_cannot_reach_company_figures_through_rpc(self):
        """Public model methods that read with sudo() check who calls them first."""
        Forecast = self.env["collections.cash.forecast"].sudo()
        rows_before = Forecast.search_count([])
        for model, method in (("collections.dashboard", "get_data"), ("collections.cash.forecast", "action_open")):
            with self.subTest(method=f"{model}.{method}"), self.assertRaises(AccessError):
                getattr(self.env[model].with_user(self.salesman), method)()
        self.assertEqual(Forecast.search_count([]), rows_before, "nothing rebuilt for the salesperson")
        self.assertTrue(self.env["collections.cash.forecast"].with_user(self.collector).action_open())

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


# What each role may do on each model: r(ead) w(rite) c(reate) u(nlink), as README's
# "Who can do what" says. ACLs and record rules are checked together, as the user.
ACCESS_MATRIX = {
    # The log is append-only: the addon writes it (collections.action._collections_log), nobody creates by hand.
    "collections.action": {"salesman": "", "billing": "r", "collector": "r", "manager": "r", "portal": ""},
    "collections.policy": {"salesman": "r", "billing": "r", "collector": "r", "manager": "rwcu", "portal": ""},
    "collections.level": {"salesman": "r", "billing": "r", "collector": "r", "manager": "rwcu", "portal": ""},
    "collections.payment.plan": {"salesman": "", "billing": "r", "collector": "rwc", "manager": "rwcu", "portal": "r"},
    "collections.promise": {"salesman": "r", "billing": "r", "collector": "rwc", "manager": "rwc", "portal": "r"},
    "collections.settlement": {"salesman": "", "billing": "r", "collector": "rwc", "manager": "rwcu", "portal": ""},
    "collections.dispute": {"salesman": "rc", "billing": "rc", "collector": "rwc", "manager": "rwcu", "portal": "r"},
    "collections.case": {"salesman": "", "billing": "r", "collector": "rwc", "manager": "rwcu", "portal": ""},
    "collections.fee": {"salesman": "", "billing": "r", "collector": "r", "manager": "r", "portal": ""},
    "collections.interest.rate": {"salesman": "", "billing": "", "collector": "r", "manager": "rwcu", "portal": ""},
    "collections.segment": {"salesman": "r", "billing": "r", "collector": "r", "manager": "rwcu", "portal": ""},
    "collections.worklist": {"salesman": "", "billing": "", "collector": "r", "manager": "r", "portal": ""},
    "collections.aging.report": {"salesman": "", "billing": "r", "collector": "r", "manager": "r", "portal": ""},
    "collections.kpi.snapshot": {"salesman": "", "billing": "", "collector": "r", "manager": "r", "portal": ""},
    "collections.call.wizard": {"salesman": "", "billing": "", "collector": "rwc", "manager": "rwc", "portal": ""},
    "collections.writeoff.wizard": {"salesman": "", "billing": "", "collector": "", "manager": "rwc", "portal": ""},
}
OPERATIONS = {"r": "read", "w": "write", "c": "create", "u": "unlink"}


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestAccessMatrix(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(cls.env, login="portal_customer_test", groups="base.group_portal",
                                        partner_id=cls.customer.id)
        cls.invoice = cls._invoice(cls.customer, 1000.0, 30)

    def _users(self):
        return {"salesman": self.salesman, "billing": self.billing, "collector": self.collector,
                "manager": self.manager, "portal": self.portal_user}

    def test_matrix(self):
        wrong = []
        for model, roles in ACCESS_MATRIX.items():
            for role, user in self._users().items():
                for letter, operation in OPERATIONS.items():
                    allowed = self.env[model].with_user(user).has_access(operation)
                    if allowed != (letter in roles[role]):
                        wrong.append(f"{role} {operation} {model}: {'allowed' if allowed else 'refused'}")
        self.assertFalse(wrong, "\n".join(wrong))

    def test_other_company_sees_nothing(self):
        other_data = self.setup_other_company(name="Matrix Other Co")
        other_collector = new_test_user(
            self.env, login="other_collector_test", groups="collections_followup.group_collections_user",
            company_id=other_data["company"].id, company_ids=[other_data["company"].id],
        )
        with self.mock_mail_gateway():
            self._run()
        promise = self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "amount": 100.0, "promised_date": TODAY,
        })
        action = self._actions(self.customer, channel="email")
        self.assertTrue(action)
        for record in (action, promise, self.policy):
            with self.subTest(model=record._name), self.assertRaises(AccessError):
                record.with_user(other_collector).check_access("read")
        for model in ("collections.action", "collections.promise", "collections.worklist", "collections.aging.report"):
            with self.subTest(model=model):
                self.assertFalse(self.env[model].with_user(other_collector).search([]), model)
        # RPC-style write of another company's record: refused.
        with self.assertRaises(AccessError):
            promise.with_user(other_collector).write({"amount": 1.0})

    def test_portal_customer_sees_only_its_own(self):
        other = self._customer("Other Customer", "other@example.com")
        self._invoice(other, 400.0, 30)
        mine = self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "amount": 100.0, "promised_date": TODAY,
        })
        theirs = self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": other.id, "amount": 100.0, "promised_date": TODAY,
        })
        promises = self.env["collections.promise"].with_user(self.portal_user).search([])
        self.assertEqual(promises, mine)
        with self.assertRaises(AccessError):
            theirs.with_user(self.portal_user).check_access("read")
        with self.assertRaises(AccessError):
            mine.with_user(self.portal_user).write({"amount": 1.0})

    def test_portal_customer_cannot_read_another_customers_debt(self):
        other = self._customer("Other Debtor", "debtor@example.com")
        self._invoice(other, 4321.0, 30)
        fields_ = ["collections_total_due", "collections_total_overdue", "collections_status",
                   "collections_credit_hold", "collections_score"]
        partner = self.env["res.partner"].with_user(self.portal_user).browse(other.id)
        with self.assertRaises(AccessError):
            partner.read(fields_)
        # Its own account: readable, that is what the portal shows.
        own = self.env["res.partner"].with_user(self.portal_user).browse(self.customer.id)
        own.check_access("read")
