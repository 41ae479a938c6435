"""What a run sends, on a book with what real books hold, compared with a record of what the sender sent
before it was batched (``data/run_golden.json``) and with itself one customer at a time.

The record was written by the per-customer sender (session 10's collections.send) on this very book; the
batched sender must send the same: subjects, recipients, body text, attachments, SMS, letters, tasks, fees,
log entries and levels. To write it again after a deliberate change of what customers receive:
``COLLECTIONS_WRITE_GOLDEN=1 make test-odoo TAGS=/collections_followup:TestSendBatch``, then read the diff."""
import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged
from odoo.tools import html2plaintext

from ..models.res_partner_mail import Reminder
from .common import TODAY, CollectionsCommon, pdf_pages

GOLDEN = Path(__file__).parent / "data" / "run_golden.json"
# Queries of one customer once its batch is prepared, as measured (posting [31, 41] and executing [15, 15] for
# batches of 4 and 9 customers, after a first batch filled Odoo's caches): its email posted with the batch's
# (_post_batch): 2, the two reads Odoo's notification makes for each message (its followers, and the thread's
# last messages for the References header); its execution: none, the batch's log entries and the levels they
# reached are each written once (executing was [18, 28] with a log entry written per customer). With
# message_post for each email: 13.6 a customer (14.6 before the batch worked out each email's Reply-To, alias
# domain and company, 16.6 with a level update per customer).
POSTING_QUERIES = 2
PER_CUSTOMER_QUERIES = 0
# What differs between two runs of the same book: tokens in links, database ids in URLs.
VOLATILE = [
    (re.compile(r"access_token=[\w-]+"), "access_token=TOKEN"),
    (re.compile(r"/collections/account/[\w.-]+"), "/collections/account/TOKEN"),
    (re.compile(r"/my/invoices/\d+"), "/my/invoices/ID"),
    (re.compile(r"https?://[^/\s\]]+"), "BASE"),
    (re.compile(r"data:image/[^\s\]]+"), "IMAGE"),
]


def stable(text):
    text = " ".join((text or "").split())
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestSendBatch(CollectionsCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.fee_product = env["product.product"].create({
            "name": "Late payment charges", "type": "service", "taxes_id": [Command.set([])],
        })
        cls.policy.sudo().write({"fee_product_id": cls.fee_product.id, "interest_margin": 8.0})
        env["collections.interest.rate"].sudo().create(
            {"date_from": date(2026, 1, 1), "rate": 4.5, "company_id": cls.company.id})
        cls.level_second.sudo().write({"fee_type": "fixed", "fee_fixed": 15.0})
        cls.level_final.sudo().write({
            "send_sms": True, "print_letter": True, "create_activity": True,
            "activity_note": "<p>Ask for a payment date.</p>",
        })
        cls.term = env["account.payment.term"].create({
            "name": "30 % now, 70 % in 60 days",
            "line_ids": [
                Command.create({"value": "percent", "value_amount": 30.0, "nb_days": 0}),
                Command.create({"value": "percent", "value_amount": 70.0, "nb_days": 60}),
            ],
        })
        eur = env.ref("base.EUR")
        eur.active = True
        env["res.currency.rate"].create({"name": date(2026, 1, 1), "rate": 0.9, "currency_id": eur.id,
                                         "company_id": cls.company.id})
        be = env.ref("base.be")
        collector = cls.collector
        customers = {}
        for name, email in (("Acme Corp", None), ("Birch Bakery", "birch@example.com"),
                            ("Cobalt Mining", "cobalt@example.com"), ("Dune Logistics", "dune@example.com"),
                            ("Elm Studio", False), ("Fjord Fisheries", "fjord@example.com")):
            partner = cls.customer if email is None else cls._customer(name, email)
            partner.with_company(cls.company).sudo().collections_user_id = collector
            customers[name] = partner
        acme, birch, cobalt, dune, elm, fjord = customers.values()
        # Acme: two late invoices (one partly paid), one not yet due, a credit note not applied yet.
        cls._invoice(acme, 1000.0, 50)
        cls._pay(cls._invoice(acme, 640.0, 12), 140.0)
        cls._invoice(acme, 80.0, -30)
        refund = env["account.move"].create({
            "move_type": "out_refund", "partner_id": acme.id, "journal_id": cls.company_data["default_journal_sale"].id,
            "invoice_date": TODAY - timedelta(days=5),
            "invoice_line_ids": [Command.create({
                "name": "Returned goods", "quantity": 1, "price_unit": 90.0, "tax_ids": [Command.set([])],
                "account_id": cls.company_data["default_account_revenue"].id,
            })],
        })
        refund.action_post()
        # Birch: an invoice on instalments (the first late, the second not yet due) and one in euros;
        # its reminders go to its invoice contact, with a copy to its owner.
        instalments = env["account.move"].create({
            "move_type": "out_invoice", "partner_id": birch.id,
            "journal_id": cls.company_data["default_journal_sale"].id,
            "invoice_date": TODAY - timedelta(days=20), "invoice_payment_term_id": cls.term.id,
            "invoice_line_ids": [Command.create({
                "name": "Oven", "quantity": 1, "price_unit": 2000.0, "tax_ids": [Command.set([])],
                "account_id": cls.company_data["default_account_revenue"].id,
            })],
        })
        instalments.action_post()
        cls._invoice(birch, 300.0, 15, currency=eur)
        env["res.partner"].create([
            {"name": "Bea Books", "email": "books@birch.example.com", "type": "invoice", "parent_id": birch.id},
            {"name": "Bob Birch", "email": "bob@birch.example.com", "parent_id": birch.id,
             "collections_followup_role": "cc"},
        ])
        # Cobalt: reached the first reminder 20 days ago, now due for the second, which charges a fee.
        cobalt_late = cls._invoice(cobalt, 2500.0, 30)
        cls._reached(cobalt_late, cls.level_first, TODAY - timedelta(days=20))
        # Dune: at the second reminder for a month, now due for the final notice: email, SMS, letter, call.
        dune.write({"phone": "0470 12 34 56", "country_id": be.id, "lang": "en_US"})
        dune_late = cls._invoice(dune, 4200.0, 60)
        cls._reached(dune_late, cls.level_second, TODAY - timedelta(days=30))
        # Elm: no email address: a logged failure and a task to fix it.
        cls._invoice(elm, 410.0, 9)
        # Fjord: opted out of emails: nothing reaches it at the first level, the collector decides.
        fjord.collections_no_email = True
        cls._invoice(fjord, 730.0, 11)
        cls.customers = customers

    def _sent(self):
        """What the run sent and wrote, customer by customer, as stable text."""
        partners = self.env["res.partner"].browse([p.id for p in self.customers.values()])
        by_name = {}
        for partner in partners.sorted("name"):
            actions = self.env["collections.action"].search([("partner_id", "=", partner.id)], order="id")
            entries = []
            for action in actions:
                entry = {
                    "channel": action.channel, "state": action.state, "origin": action.origin,
                    "level": action.level_id.name or "", "invoices": sorted(action.move_ids.mapped("name")),
                    "amount_due": action.amount_due, "amount_overdue": action.amount_overdue,
                    "note": stable(action.note), "failure": stable(action.failure_reason),
                    "recipients": action.recipients or "",
                }
                message = action.message_id
                if action.channel == "email" and message:
                    mails = self.env["mail.mail"].sudo().search([("mail_message_id", "=", message.id)])
                    entry["email"] = {
                        "subject": message.subject,
                        "author": message.author_id.name,
                        "email_from": message.email_from,
                        "to": sorted(message.partner_ids.mapped("email")),
                        "mails": [{
                            "to": sorted(mail.recipient_ids.mapped("email")),
                            "body": stable(html2plaintext(mail.body_html or "")),
                            "state": mail.state,
                        } for mail in mails.sorted(lambda m: m.recipient_ids.mapped("email"))],
                        "attachments": sorted(message.attachment_ids.mapped("name")),
                        "message_type": message.message_type,
                    }
                if action.channel == "sms" and message:
                    sms = self.env["sms.sms"].sudo().search([("mail_message_id", "=", message.id)])
                    entry["sms"] = [{"number": s.number, "body": stable(s.body), "state": s.state} for s in sms]
                if action.channel == "letter" and action.attachment_id:
                    raw = action.attachment_id.raw
                    # Odoo's tests render reports as HTML unless asked for PDFs (a second apart, as here).
                    text = (pdf_pages(raw) if raw.startswith(b"%PDF") else
                            [html2plaintext(raw.decode())])
                    entry["letter"] = {"name": action.attachment_id.name, "text": [stable(page) for page in text]}
                if action.activity_id:
                    entry["task"] = {"summary": action.activity_id.summary, "user": action.activity_id.user_id.name,
                                     "deadline": str(action.activity_id.date_deadline),
                                     "note": stable(html2plaintext(action.activity_id.note or ""))}
                entries.append(entry)
            tasks = [{"type": activity.activity_type_id.name, "summary": activity.summary,
                      "user": activity.user_id.name, "note": stable(html2plaintext(activity.note or ""))}
                     for activity in partner.activity_ids.sorted(lambda a: (a.activity_type_id.name, a.summary))]
            fees = [{"invoice": fee.move_id.name, "level": fee.level_id.name, "amount": fee.amount,
                     "interest": fee.interest, "compensation": fee.compensation,
                     "fee_invoice_total": fee.fee_move_id.amount_total}
                    for fee in self.env["collections.fee"].search([("partner_id", "=", partner.id)], order="id")]
            lines = self.env["account.move.line"].search([
                ("partner_id", "=", partner.id), ("account_id.account_type", "=", "asset_receivable"),
                ("move_id.collections_fee_source", "=", False),
            ], order="move_name, date_maturity, id")
            levels = [[line.move_id.name, str(line.date_maturity), line.collections_level_id.name or "",
                       str(line.collections_last_reminder_date or "")] for line in lines]
            chatter = [stable(html2plaintext(m.body or "")) for m in partner.message_ids.sorted("id")
                       if m.message_type == "comment" and m.subtype_id == self.env.ref("mail.mt_note")
                       and not m.subject]
            by_name[partner.name] = {"log": entries, "tasks": tasks, "fees": fees, "levels": levels,
                                     "notes": chatter}
        return by_name

    def _run_with_batch(self, size):
        self.env["ir.config_parameter"].sudo().set_param("collections_followup.run_batch_size", size)
        with self.mock_mail_gateway():
            handled = self.env["collections.run"].with_company(self.company)._run_company(self.company, TODAY)
        self.env.flush_all()
        return handled

    def test_batched_run_sends_what_the_per_customer_sender_sent(self):
        handled = self._run_with_batch(100)
        sent = self._sent()
        self.assertEqual([name for name, customer in sent.items() if not customer["log"]], [],
                         "every customer of the book is due today")
        self.assertEqual(handled, 6)
        # The book reaches every channel and outcome: otherwise this comparison proves little.
        channels = {(entry["channel"], entry["state"]) for customer in sent.values() for entry in customer["log"]}
        self.assertTrue({("email", "done"), ("sms", "done"), ("letter", "done"), ("call", "done"), ("fee", "done"),
                         ("email", "failed"), ("email", "blocked")} <= channels, channels)
        if os.environ.get("COLLECTIONS_WRITE_GOLDEN"):
            GOLDEN.parent.mkdir(exist_ok=True)
            GOLDEN.write_text(json.dumps(sent, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        golden = json.loads(GOLDEN.read_text())
        for name in sorted(set(golden) | set(sent)):
            self.assertEqual(sent.get(name), golden.get(name), f"what {name} received changed")

    def test_a_forged_reminder_in_the_context_is_ignored(self):
        """The templates' input is a Reminder the sending service puts in the rendering context; an accountant who
        reads the table with a context of their own gets the customer's open items, not an invented fee."""
        acme = self.customers["Acme Corp"].with_user(self.billing)
        forged = ((acme.id, (self.level_first.id, (-1,), None, (("INV/FORGED", 999999.0, 9),))),)
        table = acme.with_context(collections_reminders=forged).collections_mail_table
        self.assertNotIn("INV/FORGED", table)
        self.assertEqual(table, acme.collections_mail_table, "as without the forged key: everything open")
        self.assertIn(acme.invoice_ids.sorted("invoice_date_due")[0].name, table)

    def test_the_batch_addresses_each_email_as_message_post_would(self):
        """The batch works out each email's Reply-To, alias domain and company for all its customers at once
        (collections.send._post_values): each must be what message_post works out for that email on its own."""
        domain = self.env["mail.alias.domain"].sudo().create(
            {"name": "books.example.com", "catchall_alias": "accounts", "bounce_alias": "bounces"})
        self.company.sudo().alias_domain_id = domain
        self._run_with_batch(100)
        messages = self.env["collections.action"].search(
            [("channel", "=", "email"), ("state", "=", "done")]).message_id
        self.assertGreaterEqual(len(messages), 3)
        for message in messages:
            partner = self.env["res.partner"].sudo().browse(message.res_id)
            expected = partner._notify_get_reply_to(default=message.email_from, author_id=message.author_id.id)
            self.assertEqual(message.reply_to, expected[partner.id])
            self.assertIn("accounts@books.example.com", message.reply_to)
            self.assertEqual(message.record_alias_domain_id, domain)
            self.assertEqual(message.record_company_id, self.company)
            self.assertEqual(message.author_id, self.collector.partner_id)

    def test_one_customer_at_a_time_sends_the_same(self):
        """Batches of one customer and of the whole book send the same, on the same book."""
        self.env.flush_all()
        savepoint = self.env.cr.savepoint(flush=False)
        self._run_with_batch(1)
        alone = self._sent()
        savepoint.rollback()
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.assertFalse(self.env["collections.action"].search_count([]), "the first run was rolled back")
        self._run_with_batch(100)
        self.assertEqual(self._sent(), alone)
        savepoint.close(rollback=False)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestSendBatchQueries(CollectionsCommon):
    """The batch is read and rendered with a constant number of queries; each customer then costs the same."""

    def _book(self, count, prefix):
        partners = self.env["res.partner"]
        for index in range(count):
            partner = self._customer(f"{prefix} {index}", f"{prefix.lower()}{index}@example.com")
            partner.with_company(self.company).sudo().collections_user_id = self.collector
            for days in (12, 30):
                self._invoice(partner, 100.0 + index, days)
            # Each invoice already has its PDF (made at its own sending): the batch renders none.
            self.env["collections.send"]._invoice_documents(partner.invoice_ids.ids)
            partners |= partner
        return partners

    def _jobs(self, partners):
        decisions = self.env["collections.run"]._decide_all(self.company, TODAY, partner_ids=partners.ids)
        Level = self.env["collections.level"]
        return [(partner, decisions[partner.id][0], Level.browse(decisions[partner.id][1].level_id),
                 decisions[partner.id][1]) for partner in partners]

    def _queries(self, function):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        result = function()
        self.env.flush_all()
        return self.cr.sql_log_count - before, result

    def test_preparing_a_batch_reads_the_same_whatever_its_size(self):
        few, many = self._book(2, "Few"), self._book(7, "Many")
        Send = self.env["collections.send"]
        jobs = {partners: self._jobs(partners) for partners in (few, many)}
        counts = []
        for batch in jobs.values():
            # Measured twice: the first time also fills Odoo's own caches (access rules, templates, views).
            count, prepared = min(
                (self._queries(lambda batch=batch: Send._prepare_batch(batch, "scheduler", TODAY)) for _i in range(2)),
                key=lambda measure: measure[0],
            )
            self.assertEqual(len(prepared), len(batch))
            self.assertTrue(all(sending.email for sending in prepared.values()), "every email rendered")
            counts.append(count)
        self.assertEqual(counts[0], counts[1], "2 customers and 7 customers: the same queries")

    def test_queries_per_customer_once_the_batch_is_prepared(self):
        """What each customer costs in queries once its batch is prepared: posting its email with the batch's
        (_post_batch), then its execution with the batch's (collections.run._execute_batch: the log entries and the
        levels reached written once for the batch): no more than measured when the batch was built."""
        Send, Run = self.env["collections.send"], self.env["collections.run"]
        posting, executing = [], []
        with self.mock_mail_gateway():
            # The first batch fills Odoo's own caches (templates, the layout's views, access rules): not counted.
            for partners in (self._book(2, "Warm"), self._book(4, "Few"), self._book(9, "Many")):
                jobs = self._jobs(partners)
                prepared = Send._prepare_batch(jobs, "scheduler", TODAY)
                count, _result = self._queries(lambda jobs=jobs, prepared=prepared: Send._post_batch(jobs, prepared))
                posting.append(count)
                self.assertTrue(all(sending.posted for sending in prepared.values()), "every email posted at once")
                count, _result = self._queries(lambda jobs=jobs, prepared=prepared: (
                    Run._execute_batch(jobs, prepared, TODAY, None), Send._advance_batch(prepared.values())))
                executing.append(count)
                self.assertEqual(len(self.env["collections.action"].search([("partner_id", "in", partners.ids)])),
                                 len(partners), "one log entry each")
        measured = f"posting {posting[1:]}, executing {executing[1:]} for 4 and 9 customers"
        self.assertLessEqual(posting[2] - posting[1], 5 * POSTING_QUERIES, measured)
        self.assertLessEqual(executing[2] - executing[1], 5 * PER_CUSTOMER_QUERIES, measured)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestReminderTemplatePlaceholders(CollectionsCommon):
    """The reminder templates use only the placeholders Odoo lets anyone use (res.partner's
    mail_allowed_qweb_expressions): Odoo renders them without its QWeb engine, and a collector who is not a template
    editor may make a variant of one; any other expression stays the template editors'."""

    def test_a_collector_makes_a_variant_of_a_reminder_and_it_reads_as_with_qweb(self):
        # Odoo's default (Settings > Restrict Template Rendering): only template editors may use any expression.
        self.env["ir.config_parameter"].sudo().set_param("mail.restrict.template.rendering", True)
        self.assertFalse(self.collector.has_group("mail.group_mail_template_editor"))
        templates = (self.policy.level_ids.mail_template_id
                     | self.env.ref("collections_followup.mail_template_statement"))
        self.assertEqual(len(templates), 5)
        for template in templates:
            self.assertFalse(template._has_unsafe_expression(), template.name)
        self._invoice(self.customer, 700.0, 25)
        template = self.level_first.mail_template_id
        variant = template.with_user(self.collector).copy({"name": "First reminder, shorter"})
        variant.body_html = template.body_html.replace("This may well be an oversight: ", "")
        # The same text written with the expressions of Odoo's own templates goes through QWeb.
        qweb = variant.sudo().copy()
        qweb.body_html = str(variant.body_html).replace(
            'object.commercial_partner_id.name"', "object.commercial_partner_id.name or ''\"")
        self.assertTrue(qweb._has_unsafe_expression())
        decision = self.env["collections.run"]._decide_all(self.company, TODAY, partner_ids=self.customer.ids)
        reminder = Reminder(self.level_first.id, tuple(decision[self.customer.id][1].listed_move_ids))
        Send = self.env["collections.send"].with_user(self.collector)
        regex = Send._render_emails(variant, {self.customer: reminder})[self.customer.id][1]
        with_qweb = Send._render_emails(qweb, {self.customer: reminder})[self.customer.id][1]
        self.assertEqual(stable(html2plaintext(regex)), stable(html2plaintext(with_qweb)))
        text = stable(html2plaintext(regex))
        self.assertIn("Dear Acme Corp, According to our records", text)
        self.assertNotIn("oversight", text)
        self.assertIn(self.customer.invoice_ids.name, text)
        self.assertIn(f"Kind regards, {self.company.name}", text)
        # Any other expression stays the template editors'.
        with self.assertRaises(AccessError):
            variant.body_html = '<p><t t-out="object.collections_mail_table or None"/></p>'
