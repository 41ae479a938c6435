"""Controls as rules of the stored record, through the real roads as the real roles.

Each test goes through the road a user would take against a served database (XML-RPC, the
report routes, the portal), as the user who would take it, and checks what the database holds."""
import base64
import json
from datetime import timedelta
from xmlrpc.client import Fault

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from ..models.collections_guard import server
from .common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestControlRoads(CollectionsCommon, HttpCase):
    """No freeze_time: the server of HttpCase runs on the real clock; dates are relative to today."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        for user, password in ((cls.collector, "collector_pw"), (cls.salesman, "salesman_pw"),
                               (cls.billing, "billing_pw"), (cls.manager, "manager_pw")):
            user.password = password
        cls.passwords = {cls.collector: "collector_pw", cls.salesman: "salesman_pw", cls.billing: "billing_pw",
                         cls.manager: "manager_pw"}
        cls.policy.with_user(cls.manager).writeoff_account_id = cls.company_data["default_account_expense"]
        cls.late = [cls._invoice_on(cls.customer, amount, 40) for amount in (700.0, 500.0)]

    @classmethod
    def _invoice_on(cls, partner, amount, days_late):
        move = cls._invoice(partner, amount, 0, post=False)
        due = cls.today - timedelta(days=days_late)
        move.write({"invoice_date": due - timedelta(days=30), "invoice_date_due": due})
        move.action_post()
        return move

    def _rpc(self, user, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, user.id, self.passwords[user], model, method,
                                             list(args), kwargs)

    def _jsonrpc_error(self, route, params):
        """The error message a JSON-RPC route answers (make_jsonrpc_request keeps only its type)."""
        response = self.url_open(route, data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}),
                                 headers={"Content-Type": "application/json"})
        return response.json().get("error", {}).get("data", {}).get("message", "")

    # -- road 2: a write-off without a manager, through the collector's own defaults ---------------

    def test_a_collectors_defaults_do_not_approve_a_settlement(self):
        for field, value in (("state", "approved"), ("amount_basis", 1e9), ("approved_by_id", self.manager.id),
                             ("approved_date", "2026-01-01 00:00:00")):
            self._rpc(self.collector, "ir.default", "set", "collections.settlement", field, value, user_id=True)
        settlement_id = self._rpc(self.collector, "collections.settlement", "create", {
            "partner_id": self.customer.id, "move_ids": [[6, 0, [move.id for move in self.late]]],
            "amount_agreed": 1.0, "deadline": fields.Date.to_string(self.today + timedelta(days=5)),
            "reason": "Forged",
        })
        self._rpc(self.collector, "collections.settlement", "action_check_payment", [settlement_id])
        settlement = self.env["collections.settlement"].browse(settlement_id)
        self.assertEqual(settlement.state, "draft")
        self.assertFalse(settlement.approved_by_id)
        self.assertFalse(settlement.amount_basis)
        self.assertEqual(set(self.late[0].mapped("payment_state")), {"not_paid"})
        self.assertEqual(self.late[1].payment_state, "not_paid")

    def test_a_write_off_needs_an_approval_by_a_manager_at_write_off_time(self):
        settlement = self.env["collections.settlement"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [Command.set(self.late[0].ids)], "amount_agreed": 100.0,
            "deadline": self.today + timedelta(days=5), "reason": "Cash-flow trouble",
        })
        settlement.action_submit()
        settlement.with_user(self.manager).action_approve()
        self._pay(self.late[0], 100.0, self.today)
        # The approver is no longer a Collections Manager when the money arrives: nothing is written off.
        self.manager.group_ids -= self.env.ref("collections_followup.group_collections_manager")
        with self.assertRaisesRegex(Exception, "not approved by a Collections Manager"):
            settlement.with_user(self.collector).action_check_payment()
        self.assertEqual(self.late[0].payment_state, "partial")

    # -- road 3: a plan the customer never signed put in force -----------------------------------------

    def _proposed_plan(self):
        plan = self.env["collections.payment.plan"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [Command.set(self.late[1].ids)], "instalment_count": 2,
            "first_date": self.today + timedelta(days=5),
        })
        plan.action_compute_schedule()
        plan.action_propose()
        return plan

    def test_a_plan_is_in_force_only_after_the_customers_acceptance(self):
        plan = self._proposed_plan()
        with self.assertRaisesRegex(Fault, "set by Collections itself"):
            self._rpc(self.collector, "collections.payment.plan", "write", [plan.id], {"state": "active"})
        with self.assertRaisesRegex(Fault, "set by Collections itself"):
            self._rpc(self.manager, "collections.payment.plan", "write", [plan.id], {"state": "active"})
        plan.invalidate_recordset()
        self.assertEqual(plan.state, "proposed")
        # Even server code cannot put it in force without a recorded acceptance.
        with self.assertRaisesRegex(Exception, "has not accepted it"), mute_logger("odoo.sql_db"), \
                self.env.cr.savepoint():
            server(plan).write({"state": "active"})

    def test_an_employee_cannot_sign_a_plan_as_the_customer_on_its_page(self):
        plan = self._proposed_plan()
        self.authenticate(self.collector.login, "collector_pw")
        png = base64.b64encode(self.env.company.partner_id._avatar_get_placeholder()).decode()
        result = self.make_jsonrpc_request(f"{plan.access_url}/accept?access_token={plan._portal_ensure_token()}",
                                           {"name": "Acme's boss", "signature": png})
        self.assertIn("signed in as an employee", result.get("error", ""))
        plan.invalidate_recordset()
        self.assertEqual(plan.state, "proposed")
        # The customer's own link (the public user with the plan's token) still signs.
        self.authenticate(None, None)
        result = self.make_jsonrpc_request(
            f"{plan.access_url}/accept?access_token={plan.sudo().access_token}",
            {"name": "Acme's boss", "signature": png})
        self.assertTrue(result.get("force_refresh"), result)
        plan.invalidate_recordset()
        self.assertEqual((plan.state, plan.accepted_channel), ("active", "portal"))

    # -- road 4: the evidence -----------------------------------------------------------------------

    def _reminded(self):
        with self.mock_mail_gateway():
            self.env["collections.run"].with_company(self.company)._run_company(self.company, self.today)
        entry = self._actions(self.customer, channel="email")
        self.assertEqual(len(entry), 1)
        return entry

    def test_a_sent_reminder_cannot_be_edited_or_deleted_and_is_sealed(self):
        entry = self._reminded()
        message = entry.message_id
        self.assertEqual(len(entry.digest), 64)
        body = message.body
        # Its author (the collector) edits it over RPC, then through the chatter's own route.
        self.assertEqual(message.author_id, self.collector.partner_id)
        with self.assertRaisesRegex(Fault, "in the collections log"):
            self._rpc(self.collector, "mail.message", "write", [message.id], {"body": "<p>You owe nothing.</p>"})
        with self.assertRaisesRegex(Fault, "in the collections log"):
            self._rpc(self.collector, "mail.message", "unlink", [message.id])
        self.authenticate(self.collector.login, "collector_pw")
        for update in ({"body": "<p>You owe nothing.</p>", "attachment_ids": []},  # the chatter's edit
                       {"body": "", "attachment_ids": []}):  # the chatter's delete
            with mute_logger("odoo.http"):
                self.assertIn("in the collections log", self._jsonrpc_error(
                    "/mail/message/update_content", {"message_id": message.id, "update_data": update}))
        message.invalidate_recordset()
        self.assertEqual(message.body, body)
        # Not even superuser code (an administrator's script) changes it.
        with self.assertRaisesRegex(Exception, "in the collections log"), self.env.cr.savepoint():
            message.sudo().write({"body": "<p>forged</p>"})
        # Its attachments (the invoices as sent) neither.
        for attachment in message.attachment_ids:
            with self.assertRaisesRegex(Fault, "in the collections log"):
                self._rpc(self.collector, "ir.attachment", "write", [attachment.id], {"datas": "Zm9yZ2Vk"})
        self.assertFalse(self.env["collections.action"]._collections_check_seals(self.company))

    def test_a_salesperson_does_not_read_the_collections_correspondence(self):
        """Reminders, letters and statements are posted on the customer, whose chatter every employee who reads
        the customer reads: once logged they are read by billing users, accountants and collectors only, by
        every road (RPC search and read, the chatter's route, /web/content)."""
        entry = self._reminded()
        message = entry.message_id
        self.assertTrue(message.collections_private)
        spreadsheet = self.customer.with_user(self.billing)._collections_statement_xlsx_attachment()
        documents = message.attachment_ids | spreadsheet
        self.assertEqual(set(documents.mapped("collections_private")), {True})
        # Something the salesperson may read stays readable: a note of its own on the customer.
        note = self.customer.with_user(self.salesman).message_post(body="Called about the new order.")
        domain = [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        for user, allowed in ((self.salesman, False), (self.billing, True), (self.collector, True),
                              (self.manager, True)):
            with self.subTest(user=user.login):
                found = set(self._rpc(user, "mail.message", "search", domain))
                self.assertIn(note.id, found)
                self.assertEqual(message.id in found, allowed)
                self.authenticate(user.login, self.passwords[user])
                chatter = self.make_jsonrpc_request("/mail/thread/messages", {
                    "thread_model": "res.partner", "thread_id": self.customer.id, "fetch_params": {"limit": 100}})
                self.assertEqual(message.id in chatter["messages"], allowed)
                for document in documents:
                    with mute_logger("odoo.http"):
                        response = self.url_open(f"/web/content/{document.id}?download=true")
                    self.assertEqual(response.status_code == 200, allowed, document.name)
                if allowed:
                    self.assertTrue(self._rpc(user, "mail.message", "read", [message.id], ["body"]))
                    continue
                with self.assertRaises(Fault):
                    self._rpc(user, "mail.message", "read", [message.id], ["body"])
                with self.assertRaises(Fault):
                    self._rpc(user, "ir.attachment", "read", spreadsheet.ids, ["datas"])
        # Nobody but Collections unmarks it.
        for user in (self.salesman, self.collector, self.manager):
            with self.subTest(unmark=user.login), self.assertRaises(Fault):
                self._rpc(user, "mail.message", "write", [message.id], {"collections_private": False})

    def test_the_nightly_check_finds_a_changed_message_and_tells_the_managers(self):
        entry = self._reminded()
        self.assertFalse(self.env["collections.action"]._collections_check_seals(self.company))
        # Changed behind Odoo's back (SQL): the seal no longer matches.
        self.env.cr.execute(SQL("UPDATE mail_message SET body = '<p>forged</p>' WHERE id = %s", entry.message_id.id))
        self.env.invalidate_all()
        self.assertEqual(self.env["collections.action"]._collections_check_seals(self.company), entry)
        self.env["collections.self.check"]._cron_self_check()
        task = self.env["mail.activity"].search([("summary", "=", "Collections log: what was sent has been changed")])
        self.assertEqual(task.user_id, self.manager)
        self.assertIn(str(entry.id), str(task.note))

    # -- reports and portal messages ---------------------------------------------------------------

    def test_statement_and_letter_reports_are_for_billing_and_collections(self):
        for report in ("report_collections_statement", "report_followup_letter"):
            url = f"/report/html/collections_followup.{report}/{self.customer.id}"
            for user, allowed in ((self.salesman, False), (self.billing, True), (self.collector, True)):
                self.authenticate(user.login, self.passwords[user])
                # odoo.sql_db: the read-only report route writes the invoices' portal tokens, Odoo runs it again
                # with a cursor that may write.
                with mute_logger("odoo.http", "odoo.sql_db"):
                    response = self.url_open(url)
                with self.subTest(report=report, user=user.login):
                    if allowed:
                        self.assertEqual(response.status_code, 200)
                        self.assertIn(self.customer.name, response.text)
                    else:
                        self.assertNotEqual(response.status_code, 200)
                        self.assertNotIn(self.late[0].name, response.text)

    def test_no_report_of_the_addons_is_read_by_a_salesperson_or_another_customer(self):
        """Every report the addons ship (found in the registry: a new one is covered the day it is added), through
        /report/html and /report/pdf, as a salesperson, and as a portal user of another customer: refused, and
        nothing of the customer's debts in the answer. A collector reads the customer documents; the customer reads
        its own plan's agreement (the portal's link to it)."""
        plan = self._proposed_plan()
        case = self.env["collections.case"].with_user(self.collector).create({
            "partner_id": self.customer.id, "move_ids": [Command.set(self.late[0].ids)], "case_type": "legal"})
        preview = self.env["collections.run.preview"].with_user(self.manager).create({})
        preview.action_preview()
        records = {"res.partner": self.customer, "collections.payment.plan": plan, "collections.case": case,
                   "res.company": self.company, "collections.run.preview": preview}
        reports = self.env["ir.actions.report"].search([]).filtered(
            lambda report: report.get_external_id()[report.id].split(".")[0].startswith("collections_followup"))
        self.assertGreaterEqual(len(reports), 6)
        other = self._customer("Other Customer Ltd", "other@example.com")
        outsider = new_test_user(self.env, login="portal_reports", password="portal_reports",
                                 groups="base.group_portal")
        outsider.partner_id.parent_id = other
        cells = 0
        for report in reports:
            self.assertIn(report.model, records, f"give the table a record of {report.model} ({report.report_name})")
            record = records[report.model]
            for login, password in ((self.salesman.login, "salesman_pw"), ("portal_reports", "portal_reports")):
                self.authenticate(login, password)
                for kind in ("html", "pdf"):
                    with self.subTest(report=report.report_name, user=login, kind=kind), \
                            mute_logger("odoo.http", "odoo.sql_db"):
                        response = self.url_open(f"/report/{kind}/{report.report_name}/{record.id}")
                        self.assertNotEqual(response.status_code, 200)
                        self.assertNotIn(self.late[0].name, response.text)
                        cells += 1
        self.assertEqual(cells, len(reports) * 4)
        self.authenticate(self.collector.login, "collector_pw")
        for report in reports.filtered(lambda report: report.model in ("res.partner", "collections.payment.plan",
                                                                        "collections.case")):
            with self.subTest(report=report.report_name, user="collector"), mute_logger("odoo.http", "odoo.sql_db"):
                self.assertEqual(self.url_open(
                    f"/report/html/{report.report_name}/{records[report.model].id}").status_code, 200)
        owner = new_test_user(self.env, login="portal_owner", password="portal_owner", groups="base.group_portal")
        owner.partner_id.parent_id = self.customer
        self.authenticate("portal_owner", "portal_owner")
        with mute_logger("odoo.http", "odoo.sql_db"):
            self.assertEqual(self.url_open(f"/report/html/collections_followup.report_payment_plan/{plan.id}")
                             .status_code, 200)

    def test_the_portal_shows_no_text_from_the_query(self):
        portal = new_test_user(self.env, login="portal_controls", password="portal_controls",
                               groups="base.group_portal")
        portal.partner_id.parent_id = self.customer
        self.authenticate("portal_controls", "portal_controls")
        page = self.url_open("/my/collections?error=Your+account+is+closed.+Pay+to+IBAN+XX00&message=promise_ok")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("IBAN XX00", page.text)
        self.assertIn(self.late[0].name, page.text)

    # -- found from outside (an attacker against a served demo) ----------------------------------------

    def test_an_accepted_plans_terms_and_references_do_not_change(self):
        plan = self._proposed_plan()
        plan.sudo().write({"signed_document": base64.b64encode(b"%PDF signed"), "signed_document_name": "s.pdf"})
        plan.with_user(self.collector).action_accept_paper()
        self.assertEqual(plan.state, "active")
        line = plan.line_ids[:1]
        for model, ids, values in (
            ("collections.payment.plan.line", line.ids, {"amount": 1.0}),
            ("collections.payment.plan.line", line.ids, {"reminder_date": "2026-01-01"}),
            ("collections.payment.plan", plan.ids, {"grace_days": 0}),
            ("collections.payment.plan", plan.ids, {"amount_total": 1.0}),
            ("collections.payment.plan", plan.ids, {"signed_document": "Zm9yZ2Vk", "signed_document_name": "f.pdf"}),
            ("collections.payment.plan", plan.ids, {"name": "FORGED-REF"}),
        ):
            with self.subTest(model=model, values=values), self.assertRaises(Fault), mute_logger("odoo.http"):
                self._rpc(self.collector, model, "write", ids, values)
        with self.assertRaises(Fault), mute_logger("odoo.http"):
            self._rpc(self.collector, "collections.payment.plan.line", "create",
                      {"plan_id": plan.id, "due_date": "2026-12-01", "amount": 50000.0})
        with self.assertRaises(Fault), mute_logger("odoo.http"):
            self._rpc(self.collector, "collections.payment.plan.line", "unlink", line.ids)
        plan.invalidate_recordset()
        self.assertEqual((plan.name[:4], plan.grace_days != 0), ("PLAN", True))

    def test_employees_cannot_read_a_plans_token(self):
        plan = self._proposed_plan()
        for user in (self.collector, self.billing, self.manager):
            with self.subTest(user=user.login), self.assertRaises(Fault), mute_logger("odoo.http"):
                self._rpc(user, "collections.payment.plan", "read", plan.ids, ["access_token"])
        # The email to the customer has it; the copy on the plan's chatter does not.
        messages = plan.message_ids.filtered(lambda m: "accept" in str(m.body).lower())
        self.assertTrue(messages)
        self.assertFalse([m for m in messages if plan.sudo().access_token in str(m.body)])

    def test_the_scheduled_jobs_are_not_run_by_users(self):
        portal = new_test_user(self.env, login="portal_jobs", password="portal_jobs", groups="base.group_portal")
        portal.partner_id.parent_id = self.customer
        crons = self.env["ir.cron"].sudo().search([("ir_actions_server_id.model_id.model", "like", "collections.%")])
        self.assertGreaterEqual(len(crons), 8)
        for login, password in (("portal_jobs", "portal_jobs"), (self.salesman.login, "salesman_pw"),
                                (self.collector.login, "collector_pw")):
            self.authenticate(login, password)
            for cron in crons:
                with self.subTest(login=login, cron=cron.name), mute_logger("odoo.http"):
                    self.assertTrue(self._jsonrpc_error("/web/action/run",
                                                        {"action_id": cron.ir_actions_server_id.id}))

    def test_a_sealed_document_does_not_move_or_become_public(self):
        entry = self._reminded()
        message = entry.message_id
        attachment = message.attachment_ids[:1]
        self.assertTrue(attachment, "the reminder attaches its invoices")
        stranger = self._customer("Stranger Ltd", "stranger@example.com")
        for values in ({"res_id": stranger.id}, {"public": True}):
            with self.subTest(values=values), self.assertRaisesRegex(Fault, "in the collections log"):
                self._rpc(self.collector, "ir.attachment", "write", attachment.ids, values)
        with self.assertRaisesRegex(Fault, "in the collections log"):
            self._rpc(self.collector, "mail.message", "write", message.ids, {"is_internal": True})
        self.env.cr.execute(SQL("UPDATE ir_attachment SET public = TRUE WHERE id = %s", attachment.id))
        self.env.invalidate_all()
        self.assertEqual(self.env["collections.action"]._collections_check_seals(self.company), entry)
