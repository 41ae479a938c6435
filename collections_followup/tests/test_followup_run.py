import time
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, freeze_time, tagged

from .common import TODAY, CollectionsCommon


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestFollowupRun(CollectionsCommon):

    def test_default_policy_created_for_every_company(self):
        self.assertEqual(
            self.policy.level_ids.sorted("delay").mapped("delay"), [-5, 7, 21, 45],
        )
        other = self.env["res.company"].create({"name": "Brand New Ltd"})
        policy = self.env["collections.policy"]._get_default_policy(other)
        self.assertEqual(len(policy.level_ids), 4)
        self.assertTrue(all(policy.level_ids.mapped("mail_template_id")))
        self.assertNotEqual(policy.user_id, self.env.ref("base.user_root"), "tasks never go to OdooBot")

    def test_one_email_per_customer_lists_all_overdue_invoices(self):
        old = self._invoice(self.customer, 1000.0, 50)
        recent = self._invoice(self.customer, 250.0, 10)
        not_due = self._invoice(self.customer, 80.0, -30)
        with self.mock_mail_gateway():
            handled = self._run()
        self.assertEqual(handled, 1)
        mails = self._mails_to(self.customer)
        self.assertEqual(len(mails), 1, "one communication per customer")
        body = mails[0].body_html
        self.assertIn(old.name, body)
        self.assertIn(recent.name, body)
        self.assertNotIn(not_due.name, body)
        self.assertEqual(
            sorted(mails[0].attachment_ids.mapped("name")),
            # Odoo's own file name of each invoice's PDF, as its invoice sending names it.
            sorted([old._get_invoice_report_filename(), recent._get_invoice_report_filename()]),
        )
        # Neither invoice had a PDF yet (made by API): each now keeps the one the reminder sent, as Odoo's
        # invoice sending keeps it, so the next level sends it again without rendering it again.
        for move in (old, recent):
            self.assertTrue(move.invoice_pdf_report_id)
            self.assertIn(move.invoice_pdf_report_id.raw, mails[0].attachment_ids.mapped("raw"))
        # Both invoices climbed to the first level: levels are never skipped.
        self.assertEqual((old | recent).collections_level_id, self.level_first)
        self.assertEqual(old.collections_reminder_count, 1)
        self.assertEqual(old.collections_last_reminder_date, TODAY)
        self.assertFalse(not_due.collections_level_id)
        action = self._actions(self.customer, channel="email")
        self.assertEqual(action.state, "done")
        self.assertEqual(action.origin, "scheduler")
        self.assertEqual(action.move_ids, old | recent)
        self.assertEqual(action.amount_overdue, 1250.0)
        self.assertEqual(action.message_id.model, "res.partner")

    def test_courtesy_reminder_before_due_date(self):
        soon = self._invoice(self.customer, 500.0, -3)
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(soon.collections_level_id, self.level_courtesy)
        mail = self._mails_to(self.customer)[0]
        self.assertIn("fall due shortly", mail.body_html)
        self.assertFalse(mail.attachment_ids, "the courtesy level attaches nothing")

    def test_rerun_same_day_sends_nothing_twice(self):
        self._invoice(self.customer, 1000.0, 50)
        with self.mock_mail_gateway():
            self._run()
            self._run()
        self.assertEqual(len(self._mails_to(self.customer)), 1)
        self.assertEqual(len(self._actions(self.customer, channel="email")), 1)

    def test_rerun_after_a_failed_day_is_not_repeated_the_same_day(self):
        silent = self._customer("No Mail Inc", False)
        self._invoice(silent, 300.0, 10)
        self._run()
        self._run()
        self.assertEqual(len(self._actions(silent)), 1)

    def test_levels_progress_with_the_policy_gaps(self):
        invoice = self._invoice(self.customer, 1000.0, 50)
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(invoice.collections_level_id, self.level_first)
        # The second level (21 days) comes 14 days after the first (7 days).
        self.assertEqual(self._run(today=TODAY + timedelta(days=13)), 0)
        with self.mock_mail_gateway():
            self.assertEqual(self._run(today=TODAY + timedelta(days=14)), 1)
        self.assertEqual(invoice.collections_level_id, self.level_second)
        # The second level also creates a call task for the customer's collector.
        call = self._actions(self.customer, channel="call")
        self.assertEqual(call.activity_id.user_id, self.collector)
        self.assertEqual(call.activity_id.res_id, self.customer.id)

    def test_partial_payment_counts_by_residual_and_minimum_amount(self):
        self.level_first.with_user(self.manager).min_amount = 100.0
        invoice = self._invoice(self.customer, 1000.0, 10)
        self._pay(invoice, 950.0)
        self.assertEqual(invoice.amount_residual, 50.0)
        self.assertEqual(self.customer.collections_total_overdue, 50.0)
        self.assertEqual(self.customer.collections_status, "none")
        self.assertEqual(self._run(), 0)
        self.level_first.with_user(self.manager).min_amount = 40.0
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.collections_status, "action")
        with self.mock_mail_gateway():
            self.assertEqual(self._run(), 1)
        self.assertIn("50.00", self._mails_to(self.customer)[0].body_html)

    def test_excluded_invoice_and_excluded_customer(self):
        excluded = self._invoice(self.customer, 700.0, 30)
        excluded.no_followup = True
        self.assertEqual(self.customer.collections_status, "none")
        self.assertEqual(self._run(), 0)
        kept = self._invoice(self.customer, 200.0, 30)
        self.customer.invalidate_recordset()
        with self.mock_mail_gateway():
            self._run()
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(kept.name, body)
        self.assertNotIn(excluded.name, body)
        other = self._customer("Skip Me", "skip@example.com")
        self._invoice(other, 200.0, 30)
        other.with_company(self.company).with_user(self.collector).collections_excluded = True
        self.assertEqual(other.collections_status, "excluded")
        self.assertEqual(self._run(), 0)

    def test_settings_read_for_the_run_agree_with_odoo(self):
        """The run reads the customers' per-company settings with one query; with defaults set for
        this company or for all companies (ir.default), it must read what Odoo's ORM reads."""
        plain = self._customer("Plain Ltd", "plain@example.com")
        own = self._customer("Own Setting Ltd", "own@example.com")
        Default = self.env["ir.default"].sudo()
        Partner = self.env["res.partner"].with_company(self.company)
        for company_id in (False, self.company.id):
            Default.set("res.partner", "collections_excluded", True, company_id=company_id)
            own.with_company(self.company).with_user(self.collector).collections_excluded = False
            self.env.invalidate_all()
            settings = Partner.browse((plain | own).ids)._collections_settings(self.company)
            for partner in (plain, own):
                self.assertEqual(settings[partner.id][3], partner.with_company(self.company).collections_excluded,
                                 f"{partner.name}, default for company {company_id}")
            self.assertTrue(settings[plain.id][3])
            self.assertFalse(settings[own.id][3], "a value set for the company wins over the default")
            Default.discard_values("res.partner", "collections_excluded", [True])

    def test_customer_without_email_does_not_stop_the_run(self):
        silent = self._customer("No Mail Inc", False)
        self._invoice(silent, 300.0, 10)
        self._invoice(self.customer, 400.0, 10)
        with self.mock_mail_gateway():
            self.assertEqual(self._run(), 2)
        self.assertEqual(len(self._mails_to(self.customer)), 1)
        failed = self._actions(silent)
        self.assertEqual(failed.state, "failed")
        self.assertIn("no email address", failed.failure_reason)
        fix = silent.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("collections_followup.mail_activity_type_contact_fix")
        )
        self.assertEqual(len(fix), 1)
        # The customer was not reminded: its invoice keeps its level, and is retried tomorrow.
        self.assertEqual(self._run(today=TODAY + timedelta(days=1)), 1)
        self.assertEqual(len(silent.activity_ids), 1, "one contact-fix task, not one per day")

    def test_bounced_address_is_a_logged_failure(self):
        self.customer.message_bounce = 3
        self._invoice(self.customer, 300.0, 10)
        self._run()
        action = self._actions(self.customer)
        self.assertEqual(action.state, "failed")
        self.assertIn("bounced", action.failure_reason)

    def test_invoice_contact_receives_the_reminder(self):
        contact = self.env["res.partner"].create({
            "name": "Accounts Payable", "type": "invoice", "parent_id": self.customer.id,
            "email": "ap@acme.example.com",
        })
        self._invoice(self.customer, 300.0, 10)
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(len(self._mails_to(contact)), 1)
        self.assertFalse(self._mails_to(self.customer))

    def test_follow_up_contacts_come_before_the_invoice_address_and_copies_follow(self):
        Partner = self.env["res.partner"].with_user(self.collector)
        billing_box = Partner.create({
            "name": "Accounts Payable", "type": "invoice", "parent_id": self.customer.id,
            "email": "ap@acme.example.com",
        })
        controller = Partner.create({
            "name": "Carla Controller", "parent_id": self.customer.id, "email": "carla@acme.example.com",
            "collections_followup_role": "to",
        })
        ceo = Partner.create({
            "name": "Victor CEO", "parent_id": self.customer.id, "email": "victor@acme.example.com",
            "collections_followup_role": "cc",
        })
        self.assertEqual(self.customer._collections_recipients(), controller | ceo)
        self._invoice(self.customer, 300.0, 10)
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(len(self._mails_to(controller)), 1)
        self.assertEqual(len(self._mails_to(ceo)), 1)
        self.assertFalse(self._mails_to(billing_box))
        self.assertFalse(self._mails_to(self.customer))
        self.assertEqual(self._actions(self.customer, channel="email").recipients,
                         ", ".join((controller | ceo).mapped("email_formatted")))
        # The recipient's address bounced: no reminder to the copy alone; the failure says why.
        controller.message_bounce = 3
        self.assertFalse(self.customer._collections_recipients())
        self.assertIn("bounced", self.env["collections.send"]._no_recipient_reason(self.customer))

    def test_postponed_customer_waits(self):
        self._invoice(self.customer, 300.0, 10)
        wizard = self.env["collections.postpone.wizard"].with_user(self.collector).with_context(
            active_model="res.partner", active_ids=self.customer.ids,
        ).create({"date": TODAY + timedelta(days=5), "reason": "Promised to pay on the 5th"})
        wizard.action_postpone()
        self.assertEqual(self.customer.collections_status, "waiting")
        self.assertEqual(self.customer.collections_next_action_date, TODAY + timedelta(days=5))
        self.assertEqual(self._run(), 0)
        log = self._actions(self.customer, channel="postpone")
        self.assertEqual(log.user_id, self.collector)
        self.assertIn("Promised to pay", log.note)
        with self.mock_mail_gateway():
            self.assertEqual(self._run(today=TODAY + timedelta(days=5)), 1)

    def test_manual_review_level_asks_the_collector(self):
        self.level_first.with_user(self.manager).manual_review = True
        invoice = self._invoice(self.customer, 300.0, 10)
        with self.mock_mail_gateway():
            self._run()
        self.assertFalse(self._mails_to(self.customer))
        self.assertFalse(invoice.collections_level_id)
        review = self._actions(self.customer, channel="review")
        self.assertEqual(review.activity_id.user_id, self.collector)
        self.assertEqual(self._run(today=TODAY + timedelta(days=1)), 1)
        self.assertEqual(len(self._actions(self.customer, channel="review")), 1, "one review task at a time")

    def test_letter_level_keeps_a_pdf_on_the_log(self):
        invoice = self._invoice(self.customer, 900.0, 60)
        # As if the second reminder had been sent a month ago.
        self._reached(invoice, self.level_second, TODAY - timedelta(days=30))
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(invoice.collections_level_id, self.level_final)
        letter = self._actions(self.customer, channel="letter")
        self.assertEqual(letter.state, "done")
        self.assertEqual(letter.attachment_id.res_model, "res.partner")
        self.assertTrue(letter.attachment_id.raw)

    def test_foreign_currency_invoice_is_listed_in_its_currency(self):
        other = self.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        invoice = self._invoice(self.customer, 600.0, 10, currency=other)
        self.assertEqual(self.customer.collections_total_overdue, 300.0, "company currency: 600 EUR at 2.0")
        with self.mock_mail_gateway():
            self._run()
        body = self._mails_to(self.customer)[0].body_html
        self.assertIn(invoice.name, body)
        self.assertIn("600.00", body)

    def test_multi_company_isolation(self):
        company_2_data = self.setup_other_company(name="Second Co")
        company_2 = company_2_data["company"]
        # Its new policy has contact rules; this test runs at midnight.
        self.env["collections.policy"]._get_default_policy(company_2).sudo().contact_rules = False
        invoice_2 = self._invoice(self.customer, 800.0, 30, company_data=company_2_data)
        with self.mock_mail_gateway():
            self.assertEqual(self._run(), 0, "company 1 has nothing due for this customer")
        self.assertFalse(invoice_2.collections_level_id)
        with self.mock_mail_gateway():
            self.assertEqual(self._run(company=company_2), 1)
        action = self._actions(self.customer)
        self.assertEqual(action.company_id, company_2)
        self.assertEqual(invoice_2.collections_level_id.company_id, company_2)
        # A collector of company 1 does not see company 2's log.
        self.assertFalse(self.env["collections.action"].with_user(self.collector).search(
            [("partner_id", "=", self.customer.id)]
        ))

    def test_invalid_level_configuration_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "same delay"):
            self.level_second.with_user(self.manager).delay = 7
        with self.assertRaisesRegex(ValidationError, "email template"):
            self.level_second.with_user(self.manager).mail_template_id = False

    def test_status_search_finds_customers_needing_action(self):
        self._invoice(self.customer, 300.0, 10)
        waiting = self._customer("Not Yet", "notyet@example.com")
        self._invoice(waiting, 300.0, -20)
        due = self.env["res.partner"].search([("collections_status", "=", "action")])
        self.assertIn(self.customer, due)
        self.assertNotIn(waiting, due)
        self.assertIn(waiting, self.env["res.partner"].search([("collections_status", "=", "waiting")]))

    def test_search_by_level(self):
        invoice = self._invoice(self.customer, 300.0, 10)
        with self.mock_mail_gateway():
            self._run()
        self.assertEqual(invoice.collections_level_id, self.level_first)
        found = self.env["res.partner"].search([("collections_level_id", "=", self.level_first.id)])
        self.assertEqual(found, self.customer)
        self.assertFalse(self.env["res.partner"].search([("collections_level_id", "=", self.level_final.id)]))

    def test_reminder_links_each_invoice_with_a_token_written_once(self):
        """Invoices never shared get their portal token in one statement, not one invoice write each."""
        invoices = self._invoice(self.customer, 100.0, 10) | self._invoice(self.customer, 200.0, 12)
        self.assertFalse(any(invoices.mapped("access_token")))
        lines_before = invoices.line_ids.read(["balance", "amount_residual"])
        with self.mock_mail_gateway():
            self._run()
        body = self._mails_to(self.customer)[0].body_html
        for invoice in invoices:
            self.assertTrue(invoice.access_token)
            self.assertIn(f"access_token={invoice.access_token}", body)
        self.assertEqual(invoices.line_ids.read(["balance", "amount_residual"]), lines_before)

    def test_decision_queries_do_not_grow_with_customers_or_invoices(self):
        """The decision phase reads the ledger with a fixed number of queries."""
        few = self._customer("Few Ltd", "few@example.com")
        self._invoice(few, 100.0, 10)
        # Odoo's own caches (company defaults) warmed first: only our queries are counted.
        self.env["collections.run"]._decide_all(self.company, TODAY)
        run_counts = [self._count_queries(lambda: self.env["collections.run"]._decide_all(self.company, TODAY))]
        many = self.env["res.partner"]
        for index in range(6):
            partner = self._customer(f"Many {index}", f"many{index}@example.com")
            for days in (5, 20, 40):
                self._invoice(partner, 100.0 + index, days)
            many |= partner
        counts = []
        for partners in (few, many):
            # Odoo's own caches (company defaults) warmed first: only our queries are counted.
            partners._collections_decide(self.company, TODAY)
            self.env.invalidate_all()
            self.env.flush_all()
            before = self.cr.sql_log_count
            decisions = partners._collections_decide(self.company, TODAY)
            counts.append(self.cr.sql_log_count - before)
            self.assertEqual(len(decisions), len(partners))
        self.assertEqual(counts[0], counts[1], "same queries for 1 customer/1 invoice and 6 customers/18 invoices")
        self.assertLessEqual(counts[1], 12)
        # The run's decision phase over the whole company: the same with 2 customers or with 8.
        run_counts.append(self._count_queries(lambda: self.env["collections.run"]._decide_all(self.company, TODAY)))
        self.assertEqual(run_counts[0], run_counts[1])

    def test_run_decides_and_sends_chunk_by_chunk(self):
        """Customers are decided a chunk at a time (2,000 in production): every due customer of
        every chunk gets its reminder once, and the next chunk's queries do not depend on the last."""
        customers = self.env["res.partner"]
        for index in range(5):
            customers |= self._customer(f"Chunked {index}", f"chunked{index}@example.com")
            self._invoice(customers[-1], 100.0 + index, 10)
        Run = type(self.env["collections.run"])
        with patch.object(Run, "_decision_chunk_size", 2), self.mock_mail_gateway():
            chunks = list(self.env["collections.run"]._decision_chunks(self.company, TODAY))
            self.assertEqual([len(chunk) for chunk in chunks], [2, 2, 1], "5 customers with open invoices")
            self._run()
        for customer in customers:
            self.assertEqual(len(self._actions(customer, channel="email")), 1, customer.name)
            self.assertEqual(len(self._mails_to(customer)), 1, customer.name)

    def test_second_worker_starts_halfway_and_shares_the_customers(self):
        """The second scheduled action goes round the same customers from halfway; run after (with one cron
        thread) or beside the first, nobody gets a second reminder."""
        customers = self.env["res.partner"]
        for index in range(5):
            customers |= self._customer(f"Shared {index}", f"shared{index}@example.com")
            self._invoice(customers[-1], 100.0 + index, 10)
        Run = self.env["collections.run"].with_company(self.company)
        with patch.object(type(Run), "_decision_chunk_size", 2):
            first = [pid for chunk in Run._decision_chunks(self.company, TODAY) for pid in chunk]
            second = [pid for chunk in Run._decision_chunks(self.company, TODAY, start=0.5) for pid in chunk]
        self.assertEqual(first, sorted(first))
        half = len(first) // 2
        self.assertEqual(second, first[half:] + first[:half], "from halfway, then round to the start")
        self.assertTrue(set(customers.ids) <= set(first))
        with self.mock_mail_gateway():
            self.assertEqual(Run._run_company(self.company, TODAY, start=0.5), len(first))
            self.assertEqual(self._run(), 0, "the first worker finds everything done")
        for customer in customers:
            self.assertEqual(len(self._actions(customer, channel="email")), 1, customer.name)
            self.assertEqual(len(self._mails_to(customer)), 1, customer.name)
        for wrong in (1, -0.1, 2):
            with self.assertRaises(UserError):
                Run._cron_run_followups(start=wrong)
        worker = self.env.ref("collections_followup.ir_cron_collections_run_second_worker")
        self.assertTrue(worker.active, "on: with two cron threads the run uses both")

    def test_a_scheduled_run_in_slices_resumes_where_it_stopped(self):
        """Odoo gives each call of a scheduled action a slice of time (ir.cron._commit_progress). The run stops after
        the batch in which its slice ran out, triggers its scheduled action so that the next slice does not wait for
        a cron thread to wake up, and the next call goes on after the customers the pass has reached without
        deciding them again; a call whose slice is over from the start decides nothing. Once the pass is over its
        position is gone, the holds are reviewed (once) and a later run goes round again."""
        customers = self.env["res.partner"]
        for index in range(7):
            customers |= self._customer(f"Sliced {index}", f"sliced{index}@example.com")
            # Customers 1, 3 and 5 have an invoice due in two months: decided, nothing to send.
            self._invoice(customers[-1], 100.0 + index, -60 if index % 2 else 10)
        due = customers.filtered(lambda c: c.name[-1] in "0246")
        later = customers - due
        self.env["ir.config_parameter"].sudo().set_param("collections_followup.run_batch_size", 2)
        cron = self.env.ref("collections_followup.ir_cron_collections_run")
        Partner, Send = type(self.env["res.partner"]), type(self.env["collections.send"])
        decided, reviews, clock = [], [], {"offset": 0.0}
        decide, review, advance = Partner._collections_decide, Partner._collections_refresh_holds, Send._advance_batch
        monotonic = time.monotonic

        def spy_decide(partners, *args, **kwargs):
            decided[-1] |= set(partners.ids) & set(customers.ids)
            return decide(partners, *args, **kwargs)

        def spy_review(partners, *args, **kwargs):
            reviews.append(len(decided))
            return review(partners, *args, **kwargs)

        def batch_then_time_up(send, *args, **kwargs):
            clock["offset"] += 3600  # the slice runs out during the batch
            return advance(send, *args, **kwargs)

        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        with self.enter_registry_test_mode(), self.registry.cursor() as cr, self.mock_mail_gateway(), \
                patch.object(Partner, "_collections_decide", spy_decide), \
                patch.object(Partner, "_collections_refresh_holds", spy_review), \
                patch.object(Send, "_advance_batch", batch_then_time_up), \
                patch.object(time, "monotonic", lambda: monotonic() + clock["offset"]):
            env = self.env(cr=cr)
            Position = env["collections.run.position"]
            handled, progresses = [], []
            for slice_left in (60, 60, 0, 60, 60):
                job, progress = env["ir.cron"].browse(cron.id).with_context(cron_id=cron.id)._add_progress()
                clock["offset"] = 0.0
                run = env["collections.run"].with_company(self.company).with_context(
                    job.env.context, cron_end_time=time.monotonic() + slice_left)
                decided.append(set())
                handled.append(run._run_company(self.company, TODAY))
                progresses.append((progress.done, progress.remaining))
                if Position.search([]):
                    self.assertEqual(Position.search([]).last_partner_id, max(
                        pid for pid in due.ids if env["collections.action"].search_count([("partner_id", "=", pid)])))
            self.assertEqual(handled, [2, 2, 0, 0, 0])
            ids = customers.ids
            self.assertEqual(decided[0], set(ids), "the first call decides everyone")
            self.assertEqual(decided[1], set(ids[3:]), "the second goes on after the second customer due")
            self.assertEqual(decided[2], set(), "the third's slice is over: it leaves the rest to the next one")
            self.assertEqual(progresses[2], (0, 1), "nothing done, something left: Odoo reschedules the action")
            self.assertEqual(decided[3], set(), "the fourth finds the pass over")
            self.assertEqual(decided[4], set(later.ids), "a later run goes round again: only the customers not due")
            self.assertEqual(reviews, [4, 5], "the holds are reviewed at the end of each pass, not of each slice")
            self.assertFalse(Position.search([]))
            self.assertEqual(len(env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])), 3,
                             "each call stopped by its slice's end asked for the next slice at once")
            for customer in due:
                self.assertEqual(env["collections.action"].search_count(
                    [("partner_id", "=", customer.id), ("channel", "=", "email")]), 1, customer.name)
            self.assertFalse(env["collections.action"].search_count([("partner_id", "in", later.ids)]))

    def test_a_pass_left_unfinished_yesterday_starts_again(self):
        """A worker's position of an earlier day (its pass never finished: the server stopped) does not hold
        today's pass back: today's goes round every customer, from the worker's start."""
        customers = self.env["res.partner"]
        for index in range(3):
            customers |= self._customer(f"Yesterday {index}", f"yesterday{index}@example.com")
            self._invoice(customers[-1], 100.0 + index, 10)
        cron = self.env.ref("collections_followup.ir_cron_collections_run")
        Position = self.env["collections.run.position"].sudo()
        values = {"company_id": self.company.id, "start": 0.0, "day": TODAY - timedelta(days=1),
                  "pivot_partner_id": customers[0].id, "last_partner_id": customers[-1].id}
        position = Position.create(values)
        # Only the run writes positions: a manager cannot make it skip customers, nor read where it is.
        for operation in (lambda: Position.with_user(self.manager).create(dict(values, start=0.5)),
                          lambda: position.with_user(self.manager).write({"last_partner_id": 0}),
                          lambda: position.with_user(self.manager).read(["last_partner_id"])):
            with self.assertRaises(AccessError):
                operation()
        with self.enter_registry_test_mode(), self.registry.cursor() as cr, self.mock_mail_gateway():
            env = self.env(cr=cr)
            job, _progress = env["ir.cron"].browse(cron.id).with_context(cron_id=cron.id)._add_progress()
            run = env["collections.run"].with_company(self.company).with_context(**job.env.context)
            run._run_company(self.company, TODAY)
            for customer in customers:
                self.assertEqual(env["collections.action"].search_count(
                    [("partner_id", "=", customer.id), ("channel", "=", "email")]), 1, customer.name)
            self.assertFalse(env["collections.run.position"].search([]), "today's pass is over")

    def test_run_now_starts_both_workers(self):
        """A manager's Run Follow-ups Now triggers the daily run's workers (both when both are on), as the
        scheduled actions would run them."""
        first = self.env.ref("collections_followup.ir_cron_collections_run")
        second = self.env.ref("collections_followup.ir_cron_collections_run_second_worker")
        Trigger = self.env["ir.cron.trigger"]
        for active, expected in ((True, first | second), (False, first)):
            second.active = active
            Trigger.search([("cron_id", "in", (first | second).ids)]).unlink()
            action = self.env["collections.run"].with_user(self.manager)._action_run_now()
            self.assertEqual(action["params"]["title"], "Follow-up run started")
            self.assertEqual(Trigger.search([("cron_id", "in", (first | second).ids)]).cron_id, expected)

    def test_the_number_of_workers_is_a_setting(self):
        """An administrator sets how many workers send the daily follow-ups (Invoicing settings): as many scheduled
        actions, starting evenly round the customers; each customer is reminded once whichever runs first."""
        Run = self.env["collections.run"]
        self.assertEqual(Run._workers(), 2, "the first worker and the second one, as installed")
        admin = self.env.ref("base.user_admin")
        settings = Form(self.env["res.config.settings"].with_user(admin))
        self.assertEqual(settings.collections_run_workers, 2)
        settings.collections_run_workers = 4
        settings.save().execute()
        first, others = Run._worker_crons()
        self.assertEqual(Run._workers(), 4)
        self.assertEqual(others.mapped("code"), [f"model._cron_run_followups(start={start})"
                                                 for start in (0.25, 0.5, 0.75)])
        self.assertEqual(set(others.mapped("nextcall")), {first.nextcall}, "at the first one's hour")
        customers = self.env["res.partner"]
        for index in range(4):
            customers |= self._customer(f"Worker {index}", f"worker{index}@example.com")
            self._invoice(customers[-1], 100.0 + index, 10)
        with self.mock_mail_gateway():
            for cron in reversed(first | others):  # the last one first: any order
                cron.with_company(self.company).ir_actions_server_id.run()
        for customer in customers:
            self.assertEqual(len(self._actions(customer, channel="email")), 1, customer.name)
        Trigger = self.env["ir.cron.trigger"]
        Trigger.search([]).unlink()
        Run.with_user(self.manager)._action_run_now()
        self.assertEqual(Trigger.search([]).cron_id, first | others, "Run Now starts every worker")
        Run._set_workers(1)
        self.assertEqual(Run._workers(), 1)
        second = self.env.ref("collections_followup.ir_cron_collections_run_second_worker")
        self.assertEqual((Run._worker_crons()[1], second.active), (second, False), "the addon's own is kept, off")
        for wrong in (0, 9, 2.5):
            with self.assertRaises(UserError):
                Run._set_workers(wrong)
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.manager).create({"collections_run_workers": 3})

    def test_run_now_says_when_customers_wait_for_their_contact_hours(self):
        """Run Now at midnight UTC: customers in Paris (02:00) wait for 09:00, one in Tokyo (09:00) is reminded now;
        the manager is told which, how many and when the first waiting one goes."""
        Run = self.env["collections.run"].with_user(self.manager)
        self._invoice(self.customer, 300.0, 20)
        self._invoice(self._customer("Paris Ltd", "paris@example.com"), 200.0, 20)
        open_ids = Run._open_partner_ids(self.company)
        customers = self.env["res.partner"].browse(open_ids)
        customers.write({"tz": "Europe/Paris"})
        self.assertIn("being sent in the background", Run._action_run_now()["params"]["message"])
        self.policy.sudo().write({"contact_rules": True, "contact_hour_from": 9.0, "contact_hour_to": 18.0})
        params = Run._action_run_now()["params"]
        self.assertEqual(params["message"], (
            f"No reminder goes out now: every customer with open invoices ({len(customers)}) is outside its contact "
            "hours or days. The run records their reminders as waiting (Collections Log, state Waiting) and the "
            "hourly job sends each when its contact hours start, the first at 03/31/2026 09:00 (Europe/Paris)."))
        self.assertEqual((params["type"], params["sticky"]), ("warning", True))
        self.customer.tz = "Asia/Tokyo"
        message = Run._action_run_now()["params"]["message"]
        self.assertIn(f"{len(customers) - 1} of the {len(customers)} customers with open invoices are outside",
                      message)
        self.assertIn("the first at 03/31/2026 09:00 (Europe/Paris)", message)

    def test_customers_the_run_considers(self):
        """The run lists its customers from Odoo's index of unreconciled receivable items (a
        superset: drafts too) and each chunk keeps only the company's open posted items: a paid
        customer and another company's customer are not listed, a draft-only customer is listed
        but has nothing to send, the overdue customer is due."""
        overdue = self._customer("Overdue Ltd", "overdue@example.com")
        self._invoice(overdue, 300.0, 20)
        paid = self._customer("Paid Ltd", "paid@example.com")
        self._pay(self._invoice(paid, 200.0, 20), 200.0)
        draft = self._customer("Draft Ltd", "draft@example.com")
        self._invoice(draft, 150.0, 20, post=False)
        elsewhere = self._customer("Elsewhere Ltd", "elsewhere@example.com")
        self._invoice(elsewhere, 400.0, 20, company_data=self.setup_other_company(name="Elsewhere Co"))
        Run = self.env["collections.run"]
        candidates = Run._open_partner_ids(self.company)
        self.assertIn(overdue.id, candidates)
        self.assertIn(draft.id, candidates, "a superset: the draft's items are unreconciled")
        self.assertNotIn(paid.id, candidates)
        self.assertNotIn(elsewhere.id, candidates, "another company's receivable accounts")
        decisions = Run._decide_all(self.company, TODAY)
        self.assertEqual(decisions[overdue.id][1].status, "action")
        self.assertEqual(decisions[draft.id][1].status, "none")
        self.assertFalse(decisions[draft.id][1].items)
        self.assertEqual(Run._open_partner_ids(self.company, [overdue.id, paid.id]), {overdue.id})

    def _count_queries(self, function):
        self.env.invalidate_all()
        self.env.flush_all()
        before = self.cr.sql_log_count
        function()
        return self.cr.sql_log_count - before
