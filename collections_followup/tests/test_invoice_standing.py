import ast
from datetime import timedelta

from lxml import etree

from odoo.tests import Form, freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestInvoiceStanding(CollectionsCommon):
    """An invoice says where it stands in Collections (badges on its form, filters in the list) to
    whoever may read it, from the open dispute, plan, promise or case listing it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.disputed = cls._invoice(cls.customer, 800.0, 30)
        cls.planned = cls._invoice(cls.customer, 600.0, 40)
        cls.promised = cls._invoice(cls.customer, 300.0, 20)
        cls.escalated = cls._invoice(cls.customer, 2000.0, 120)
        cls.plain = cls._invoice(cls.customer, 100.0, 10)
        cls.invoices = cls.disputed | cls.planned | cls.promised | cls.escalated | cls.plain
        cls.agency = cls.env["res.partner"].create({
            "name": "Recover-It Agency", "is_company": True, "collections_is_agency": True,
        })

    def _standing(self, user=None):
        invoices = self.invoices.with_user(user or self.billing)
        invoices.invalidate_recordset()
        fields = ("collections_dispute_state", "collections_plan_state", "collections_promised_date",
                  "collections_case_state")
        return {move.id: tuple(move[field] or None for field in fields) for move in invoices}

    def _find(self, domain, user=None):
        Move = self.env["account.move"].with_user(user or self.billing)
        return Move.search([("id", "in", self.invoices.ids), *domain])

    def _open_records(self):
        dispute = self.env["collections.dispute"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.disputed.ids)],
            "reason_id": self.env.ref("collections_followup.dispute_reason_quality").id,
            "description": "Half of the pallets arrived broken",
        })
        plan = self.env["collections.payment.plan"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.planned.ids)], "instalment_count": 3,
            "frequency": "monthly", "first_date": TODAY + timedelta(days=5),
        })
        plan.action_compute_schedule()
        promise = self.env["collections.promise"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.promised.ids)], "amount": 300.0,
            "promised_date": TODAY + timedelta(days=7),
        })
        case = self.env["collections.case"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [(6, 0, self.escalated.ids)],
            "agency_id": self.agency.id, "commission_rate": 15.0,
        })
        return dispute, plan, promise, case

    def test_each_invoice_states_the_record_that_lists_it(self):
        self.assertEqual(set(self._standing().values()), {(None, None, None, None)})
        dispute, plan, promise, case = self._open_records()
        # A draft plan is not a plan in force: nothing yet.
        self.assertEqual(self._standing()[self.planned.id], (None, None, None, None))
        plan.action_propose()
        expected = {
            self.disputed.id: ("open", None, None, None),
            self.planned.id: (None, "proposed", None, None),
            self.promised.id: (None, None, TODAY + timedelta(days=7), None),
            self.escalated.id: (None, None, None, "agency_proposed"),
            self.plain.id: (None, None, None, None),
        }
        # The billing clerk may not read agency cases: the invoice still says it is escalated.
        self.assertEqual(self._standing(self.billing), expected)
        self.assertEqual(self._standing(self.collector), expected)

        dispute.with_user(self.collector).action_review()
        case.with_user(self.manager).action_approve()
        standing = self._standing()
        self.assertEqual(standing[self.disputed.id][0], "review")
        self.assertEqual(standing[self.escalated.id][3], "agency_open")

        # Closed records no longer speak for the invoice.
        dispute.with_user(self.collector).write({"resolution": "Credited the broken pallets"})
        dispute.with_user(self.collector).action_resolve()
        promise.with_user(self.collector).action_cancel()
        standing = self._standing()
        self.assertEqual(standing[self.disputed.id], (None, None, None, None))
        self.assertEqual(standing[self.promised.id], (None, None, None, None))
        self.assertEqual(standing[self.escalated.id], (None, None, None, "agency_open"))

    def test_the_invoice_list_filters_on_the_standing(self):
        plan = self._open_records()[1]
        plan.action_propose()
        cases = [
            ([("collections_dispute_state", "!=", False)], self.disputed),
            ([("collections_dispute_state", "=", "open")], self.disputed),
            ([("collections_dispute_state", "=", "review")], self.env["account.move"]),
            ([("collections_dispute_state", "=", False)], self.invoices - self.disputed),
            ([("collections_dispute_state", "!=", "open")], self.invoices - self.disputed),
            ([("collections_plan_state", "in", ["proposed", "active"])], self.planned),
            ([("collections_plan_state", "=", "active")], self.env["account.move"]),
            ([("collections_promised_date", "!=", False)], self.promised),
            ([("collections_promised_date", "<=", TODAY + timedelta(days=7))], self.promised),
            ([("collections_promised_date", "<", TODAY + timedelta(days=7))], self.env["account.move"]),
            ([("collections_case_state", "=", "agency_proposed")], self.escalated),
            ([("collections_case_state", "in", ["legal_proposed", "legal_open"])], self.env["account.move"]),
            ([("collections_case_state", "not in", ["agency_proposed"])], self.invoices - self.escalated),
        ]
        for domain, expected in cases:
            with self.subTest(domain=domain):
                self.assertEqual(self._find(domain), expected)
        # The filters of the invoice list's search view, as the billing clerk gets them.
        arch = etree.fromstring(self.env["account.move"].with_user(self.billing).get_views(
            [(False, "search")], {"search_view_ref": "account.view_account_invoice_filter"},
        )["views"]["search"]["arch"])
        for name, expected in (("collections_disputed", self.disputed), ("collections_in_plan", self.planned),
                               ("collections_promised", self.promised), ("collections_escalated", self.escalated)):
            with self.subTest(filter=name):
                self.assertEqual(self._find(ast.literal_eval(arch.xpath(f"//filter[@name='{name}']")[0].get("domain"))),
                                 expected)

    def test_the_form_shows_the_badges_to_the_billing_clerk(self):
        plan = self._open_records()[1]
        plan.action_propose()
        self._reached(self.escalated, self.level_final, TODAY - timedelta(days=20))
        form = Form(self.escalated.with_user(self.billing))
        self.assertEqual(form.collections_case_state, "agency_proposed")
        self.assertEqual(form.collections_level_id, self.level_final)
        arch = self.env["account.move"].with_user(self.billing).get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="collections_standing"', arch)
        self.assertIn('name="collections_case_state"', arch)
