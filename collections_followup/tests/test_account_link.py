import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import CollectionsCommon


def without_csrf(page):
    # The page's CSRF token changes with the second it is made in.
    return re.sub(r'csrf_token: "[^"]*"', "", page)


@tagged("post_install", "-at_install")
class TestAccountLink(CollectionsCommon, HttpCase):
    """The account link of each reminder: the customer's account without a login, for that customer only,
    until it expires or is revoked; guesses are bounded. No freeze_time: the server runs on the real clock."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.invoice = cls._invoice(cls.customer, 800.0, 40)
        cls.credit_note = cls.env["account.move"].create({
            "move_type": "out_refund", "partner_id": cls.customer.id,
            "invoice_line_ids": [(0, 0, {"name": "Returned goods", "quantity": 1, "price_unit": 150.0,
                                         "tax_ids": [(6, 0, [])]})],
        })
        cls.credit_note.action_post()
        cls.stranger = cls._customer("Stranger Ltd", "stranger@example.com")
        cls.stranger_invoice = cls._invoice(cls.stranger, 999.0, 40)

    def _link_from_reminder(self):
        with self.mock_mail_gateway():
            self._run(today=self.today)
        mails = self._mails_to(self.customer)
        self.assertEqual(len(mails), 1)
        self.assertIn("We send our payment reminders to acme@example.com.", mails[0].body_html,
                      "the reminder says which address it is written to")
        links = re.findall(r'href="([^"]*/collections/account/[^"]+)"', mails[0].body_html)
        self.assertEqual(len(set(links)), 1, "one account link in the reminder")
        return links[0].split("/collections/account/")[1]

    def test_the_chatter_copy_does_not_hold_the_link(self):
        """The customer's email has the link; the reminder kept on its chatter (read by every employee who
        reads the customer) does not, and its seal is of that copy."""
        token = self._link_from_reminder()
        entry = self._actions(self.customer, channel="email")
        body = str(entry.message_id.body)
        self.assertNotIn(token, body)
        self.assertNotIn("/collections/account/", body)
        self.assertIn("Open your account", body)
        self.assertIn("The account link went to the customer only", body)
        self.assertFalse(entry._collections_broken_seals())
        # As a collector reads the chatter: the token is nowhere in what it reads of the customer; a salesperson
        # does not read the reminder at all (collections correspondence).
        domain = [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        messages = self.env["mail.message"].with_user(self.collector).search_read(domain, ["body"])
        self.assertIn(entry.message_id.id, [m["id"] for m in messages])
        self.assertFalse([m for m in messages if token in str(m["body"])])
        self.assertNotIn(entry.message_id.id, self.env["mail.message"].with_user(self.salesman).search(domain).ids)

    def _open(self, token, suffix=""):
        return self.url_open(f"/collections/account/{token}{suffix}")

    def test_the_reminder_link_opens_the_account_without_login(self):
        token = self._link_from_reminder()
        self.authenticate(None, None)
        page = self._open(token)
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.invoice.name, page.text)
        self.assertIn(self.credit_note.name, page.text, "the credits not yet applied")
        self.assertIn("Your account with", page.text)
        self.assertNotIn(self.stranger_invoice.name, page.text)
        self.assertIn(f"/collections/account/{token}/statement", page.text)
        statement = self._open(token, "/statement")
        self.assertEqual(statement.status_code, 200)
        self.assertIn("attachment", statement.headers["Content-Disposition"])
        # The invoice's own page, to view and pay it, opens from there too (its access token).
        invoice_url = re.search(rf'href="(/my/invoices/{self.invoice.id}\?access_token=[^"]+)"', page.text)
        self.assertTrue(invoice_url)
        self.assertEqual(self.url_open(invoice_url.group(1).replace("&amp;", "&")).status_code, 200)

    def test_tokens_that_open_nothing_all_answer_as_a_missing_page(self):
        token = self._link_from_reminder()
        partner_id, expiry, generation, signature = token.split(".")
        stranger_with_this_signature = f"{self.stranger.id}.{expiry}.{generation}.{signature}"
        expired = self.customer._collections_link_token(self.today - timedelta(days=1))
        later_expiry = f"{partner_id}.{int(expiry) + 30}.{generation}.{signature}"
        wrong_signature = f"{partner_id}.{expiry}.{generation}.{'0' * len(signature)}"
        self.authenticate(None, None)
        Attempt = self.env["collections.link.attempt"].sudo()
        missing = self.url_open("/collections/nothing-here")
        for bad in (stranger_with_this_signature, expired, later_expiry, wrong_signature, "nothing", "1.2.3",
                    "9" * 300, f"{partner_id}.{expiry}.{generation}"):
            with self.subTest(token=bad[:40]):
                answer = self._open(bad)
                self.assertEqual(answer.status_code, 404)
                self.assertEqual(without_csrf(answer.text), without_csrf(missing.text),
                                 "the answer of a missing page, nothing more")
                self.assertEqual(self._open(bad, "/statement").status_code, 404)
                self.assertEqual(Attempt.search_count([]), 2, "each refusal counts against the address")
                Attempt.search([]).unlink()
        # The right token still works, and a contact of the customer is not a way in.
        self.assertEqual(self._open(token).status_code, 200)
        contact = self.env["res.partner"].create({"name": "Someone", "parent_id": self.customer.id})
        self.assertEqual(self._open(contact._collections_link_token(self.today + timedelta(days=5))).status_code,
                         200, "a contact's link opens its company's account")
        self.env["collections.link.attempt"].sudo().search([]).unlink()

        # Revoked by the collector: the sent link stops working, the next reminder's works.
        self.customer.with_user(self.collector).action_collections_revoke_links()
        self.assertEqual(self._open(token).status_code, 404)
        self.assertEqual(self._actions(self.customer, channel="account_link").user_id, self.collector)
        fresh = self.customer._collections_link_token(self.today + timedelta(days=5))
        self.assertNotEqual(fresh, token)
        self.assertEqual(self._open(fresh).status_code, 200)

    def test_guesses_are_bounded_per_address(self):
        token = self._link_from_reminder()
        self.authenticate(None, None)
        for number in range(10):
            self.assertEqual(self._open(f"{self.customer.id}.1.0.guess{number}").status_code, 404)
        # From now on this address gets nothing, not even with a valid token, for a while.
        self.assertEqual(self._open(token).status_code, 429)
        Attempt = self.env["collections.link.attempt"].sudo()
        Attempt.search([]).write({"moment": fields.Datetime.now() - timedelta(minutes=20)})
        self.assertEqual(self._open(token).status_code, 200)

    def test_promise_and_dispute_through_the_link(self):
        token = self._link_from_reminder()
        self.authenticate(None, None)
        page = self._open(token)
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        answer = self.url_open(f"/collections/account/{token}/promise", data={
            "csrf_token": csrf, "promised_date": str(self.today + timedelta(days=10)), "amount": "400",
        })
        self.assertEqual(answer.status_code, 200)
        self.assertIn(f"/collections/account/{token}?message=promise_ok", answer.url)
        promise = self.env["collections.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((promise.amount, promise.move_ids), (400.0, self.invoice))

        # A dispute about another customer's invoice is refused; about its own, recorded.
        answer = self.url_open(f"/collections/account/{token}/dispute", data={
            "csrf_token": csrf, "invoice_id": str(self.stranger_invoice.id),
            "reason_id": str(self.env.ref("collections_followup.dispute_reason_quality").id),
            "description": "Not our invoice at all",
        })
        self.assertIn("Choose one of your open invoices", answer.text)
        self.assertFalse(self.env["collections.dispute"].search([("move_ids", "in", self.stranger_invoice.ids)]))
        answer = self.url_open(f"/collections/account/{token}/dispute", data={
            "csrf_token": csrf, "invoice_id": str(self.invoice.id),
            "reason_id": str(self.env.ref("collections_followup.dispute_reason_quality").id),
            "description": "Two boxes were damaged on arrival",
        })
        self.assertIn("message=dispute_ok", answer.url)
        dispute = self.env["collections.dispute"].search([("move_ids", "in", self.invoice.ids)])
        self.assertEqual((dispute.partner_id, dispute.origin), (self.customer, "portal"))

    def test_no_link_when_the_policy_says_so(self):
        self.policy.with_user(self.manager).account_link_days = 0
        with self.mock_mail_gateway():
            self._run(today=self.today)
        self.assertNotIn("/collections/account/", self._mails_to(self.customer)[0].body_html)
