from datetime import timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestEscalation(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agency = cls.env["res.partner"].create({
            "name": "Recover-It Agency", "is_company": True, "email": "cases@recoverit.example.com",
            "collections_is_agency": True, "collections_agency_commission": 15.0,
            "collections_agency_fixed_fee": 20.0,
        })
        cls.old = cls._invoice(cls.customer, 2000.0, 120)
        cls.newer = cls._invoice(cls.customer, 500.0, 10)

    def _at_second_level(self):
        """The old invoice already had the second reminder: the final notice is next."""
        self._reached(self.old, self.level_second, TODAY - timedelta(days=60))

    def _case(self, user=None, moves=None, **values):
        case = self.env["collections.case"].with_user(user or self.collector).create({
            "partner_id": self.customer.id,
            "move_ids": [(6, 0, (moves or self.old).ids)],
            "agency_id": self.agency.id,
            "commission_rate": 15.0,
            "fixed_fee": 20.0,
            **values,
        })
        return case

    def test_only_managers_place_and_placement_stops_internal_follow_up(self):
        case = self._case()
        with self.assertRaises(AccessError):
            case.with_user(self.collector).action_approve()
        case.with_user(self.manager).action_approve()
        self.assertEqual(case.state, "open")
        self.assertEqual(case.amount_basis, 2000.0)
        with self.mock_mail_gateway():
            self._run()
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(self.newer.name, body)
        self.assertNotIn(self.old.name, body, "the agency deals with it")

    def test_commission_on_partial_recovery_and_agency_bill(self):
        case = self._case()
        case.with_user(self.manager).action_approve()
        self._pay(self.old, 600.0)
        case.with_user(self.manager).amount_reported = 400.0  # collected by the agency, not yet remitted
        case.invalidate_recordset()
        self.assertEqual(case.amount_recovered, 1000.0)
        # 15 % of 1,000 + 20 fixed = 170.
        self.assertEqual(case.commission, 170.0)
        action = case.with_user(self.manager).action_create_bill()
        bill = self.env["account.move"].browse(action["res_id"])
        self.assertEqual((bill.move_type, bill.partner_id, bill.amount_total), ("in_invoice", self.agency, 170.0))
        bill.action_post()
        case.invalidate_recordset()
        self.assertEqual(case.amount_billed, 170.0)
        case.with_user(self.manager).action_close_partial()
        self.assertEqual(case.state, "partial")
        log = self._actions(self.customer, channel="case")
        self.assertTrue(any("Partly Recovered" in (entry.note or "") for entry in log))

    def test_the_reported_amount_is_a_managers_and_never_more_than_is_owed(self):
        case = self._case()
        case.with_user(self.manager).action_approve()
        # A collector's own default does not reach the record either.
        self.env["ir.default"].with_user(self.collector).set("collections.case", "amount_reported", 100.0,
                                                             user_id=True)
        with self.assertRaises(AccessError):
            self._case(moves=self.newer)
        self.env["ir.default"].with_user(self.collector).set("collections.case", "amount_reported", False,
                                                             user_id=True)
        for amount in (-10.0, 2000.01):
            with self.subTest(amount=amount), self.assertRaises(ValidationError):
                case.with_user(self.manager).amount_reported = amount
        case.with_user(self.manager).amount_reported = 2000.0
        case.invalidate_recordset()
        self.assertEqual(case.amount_recovered, 2000.0)
        # The agency remits 1,500 (booked as a payment) and nobody lowers the report: counted once.
        self._pay(self.old, 1500.0)
        case.invalidate_recordset()
        self.assertEqual(case.amount_recovered, 2000.0)
        self.assertEqual(case.commission, 320.0)  # 15 % of 2,000 + 20 fixed

    def test_level_escalation_proposes_a_case_for_a_manager(self):
        self.level_final.with_user(self.manager).escalate = True
        self._at_second_level()
        with self.mock_mail_gateway():
            self._run()
        case = self.env["collections.case"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(case.state, "proposed")
        self.assertEqual(case.move_ids, self.old | self.newer)
        self.assertEqual(case.level_id, self.level_final)
        request = case.with_user(self.manager).activity_ids
        self.assertTrue(request.user_id.has_group("collections_followup.group_collections_manager"))
        self.assertEqual(self._actions(self.customer, channel="case").move_ids, self.old | self.newer)

    def test_automatic_escalation_places_with_the_policy_agency(self):
        self.policy.with_user(self.manager).write({"escalation_mode": "automatic", "agency_id": self.agency.id})
        self.level_final.with_user(self.manager).escalate = True
        self._at_second_level()
        self._run()
        case = self.env["collections.case"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((case.state, case.agency_id, case.commission_rate), ("open", self.agency, 15.0))
        self.assertFalse(case.approved_by_id, "placed by the policy, not by a person")

    def test_invoice_in_one_open_case_only(self):
        self._case()
        with self.assertRaisesRegex(ValidationError, "already in case"):
            self._case()

    def test_uncollectable_offers_the_write_off(self):
        case = self._case()
        case.with_user(self.manager).action_approve()
        action = case.with_user(self.manager).action_close_uncollectable()
        self.assertEqual(case.state, "uncollectable")
        self.assertEqual(action["res_model"], "collections.writeoff.wizard")
        self.assertEqual(action["context"]["default_move_ids"], self.old.ids)

    def test_a_placed_cases_terms_do_not_change_and_an_approval_names_its_manager(self):
        """Found from outside: a collector set a placed case's commission to 90 %; a context key sent over RPC
        could store a manager's approval without the manager."""
        case = self._case()
        case.with_user(self.manager).with_context(collections_policy_approval=True).action_approve()
        self.assertEqual(case.approved_by_id, self.manager, "a context key does not hide who approved")
        for values in ({"commission_rate": 90.0}, {"fixed_fee": 5000.0}, {"agency_id": False}):
            for user in (self.collector, self.manager):
                with self.subTest(values=values, user=user.login), self.assertRaises(UserError):
                    case.with_user(user).write(values)
        self.assertEqual((case.commission_rate, case.fixed_fee), (15.0, 20.0))
        # What the agency reports collected is owed commission: a manager enters it (attack of session 17: a
        # collector's entry fed the commission a manager then billed).
        with self.assertRaises(AccessError):
            case.with_user(self.collector).write({"amount_reported": 100.0})
        case.with_user(self.manager).write({"amount_reported": 100.0})
