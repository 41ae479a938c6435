import base64
from contextlib import contextmanager
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, freeze_time, tagged

from odoo.addons.collections_followup.tests.common import TODAY, CollectionsCommon

# What Snailmail reaches IAP with (odoo.addons.snailmail.models.snailmail_letter calls it through the module).
IAP_JSONRPC = "odoo.addons.iap.tools.iap_tools.iap_jsonrpc"


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestSnailmailLetters(CollectionsCommon, HttpCase):
    """Levels that post their letter: the run queues it in Snailmail, Odoo's scheduled action posts it.

    HttpCase: wkhtmltopdf fetches the letters' assets from the test server (as TestLetterBatch)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.write({
            "street": "1 Avenue Louise", "zip": "1050", "city": "Brussels", "country_id": cls.env.ref("base.be").id,
        })
        cls.level_first.with_user(cls.manager).write({
            "print_letter": True, "post_letter": True, "send_email": False,
            "snailmail_color": False, "snailmail_duplex": True,
        })
        cls.customer.country_id = cls.env.ref("base.be")
        cls.invoice = cls._invoice(cls.customer, 500.0, 10)
        cls.other = cls._customer("Zenith Works", "zenith@example.com")
        cls.other.country_id = cls.env.ref("base.be")
        cls.other.with_company(cls.company).sudo().collections_user_id = cls.collector
        cls._invoice(cls.other, 300.0, 10)

    def _run_as_collector(self):
        # Odoo's tests render reports as HTML unless asked for the PDF the letter really is.
        # No request may reach IAP while the run works: it only queues the letters.
        with patch(IAP_JSONRPC, side_effect=AssertionError("the run must not call IAP")) as iap:
            self.env["collections.run"].with_user(self.collector).with_context(
                force_report_rendering=True,
            ).with_company(self.company)._run_company(self.company, TODAY)
        self.assertFalse(iap.called)

    def _entry(self, partner):
        return self.env["collections.action"].with_user(self.collector).search(
            [("partner_id", "=", partner.id), ("channel", "=", "letter")])

    def _letters(self):
        return self.env["snailmail.letter"].search([("model", "=", "res.partner"),
                                                    ("res_id", "in", (self.customer | self.other).ids)])

    @contextmanager
    def _iap(self, answer):
        """Snailmail's request to IAP, answered by ``answer(document)`` for each letter it carries;
        yields the requests. Odoo's Snailmail commits after each letter: a test may not."""
        requests = []

        def iap_jsonrpc(url, method="call", params=None, timeout=15):
            requests.append((url, params))
            return {
                "request_code": 200,
                "total_cost": len(params["documents"]),
                "request": {"documents": [{**document, **answer(document)} for document in params["documents"]],
                            "options": params["options"]},
            }

        with patch(IAP_JSONRPC, side_effect=iap_jsonrpc), patch.object(self.env.cr, "commit", lambda: None):
            yield requests

    def test_run_queues_one_letter_per_customer_with_the_run_pdf(self):
        self._run_as_collector()
        letters = self._letters()
        self.assertEqual(len(letters), 2)
        for partner in (self.customer, self.other):
            entry = self._entry(partner)
            self.assertEqual(entry.state, "done")
            letter = entry.snailmail_letter_id
            self.assertEqual(letter.state, "pending", "queued for Odoo's scheduled action")
            self.assertEqual(entry.snailmail_state, "pending")
            self.assertEqual(letter.attachment_id, entry.attachment_id, "the run's own PDF is posted")
            self.assertEqual(letter.attachment_id.raw[:4], b"%PDF")
            self.assertEqual(letter.partner_id, partner.commercial_partner_id)
            self.assertEqual((letter.model, letter.res_id), ("res.partner", partner.id))
            self.assertEqual(letter.company_id, self.company)
            self.assertEqual(letter.user_id, self.collector)
            self.assertEqual((letter.color, letter.duplex, letter.cover), (False, True, False))
            self.assertIn("handed to Snailmail", str(entry.message_id.body), "the chatter does not ask to print it")

        # The same day again: the customers were handled, nothing more is queued.
        self._run_as_collector()
        self.assertEqual(self._letters(), letters)
        self.assertEqual(len(self.env["collections.action"].search([("channel", "=", "letter")])), 2)

    def test_level_that_does_not_post_queues_nothing(self):
        self.level_first.with_user(self.manager).post_letter = False
        self._run_as_collector()
        entry = self._entry(self.customer)
        self.assertEqual(entry.state, "done")
        self.assertTrue(entry.attachment_id)
        self.assertFalse(entry.snailmail_letter_id)
        self.assertFalse(self._letters())
        self.assertIn("ready to print and post", str(entry.message_id.body))
        # Printed by the post room as before.
        action = entry.with_user(self.collector).action_print_letters()
        self.assertEqual(action["type"], "ir.actions.act_url")

    def test_post_letter_only_with_print_letter(self):
        self.level_first.with_user(self.manager).print_letter = False
        self.assertFalse(self.level_first.post_letter)

    def test_snailmail_cron_posts_and_the_log_shows_it(self):
        self._run_as_collector()
        entry = self._entry(self.customer)
        with self._iap(lambda document: {"sent": True, "send_id": f"TRACK-{document['letter_id']}"}) as requests:
            self.env["snailmail.letter"]._snailmail_cron(autocommit=False)
        self.assertEqual(len(requests), 2, "one request per letter")
        url, params = next(request for request in requests
                           if request[1]["documents"][0]["letter_id"] == entry.snailmail_letter_id.id)
        self.assertTrue(url.endswith("/iap/snailmail/1/print"))
        document = params["documents"][0]
        self.assertEqual(base64.b64decode(document["pdf_bin"]), entry.attachment_id.raw)
        self.assertEqual(document["address"]["name"], "Acme Corp")
        self.assertEqual(document["address"]["country_code"], "BE")
        self.assertEqual((params["options"]["color"], params["options"]["duplex"]), (False, True))

        entry.invalidate_recordset()
        self.assertEqual(entry.snailmail_state, "sent")
        self.assertFalse(entry.snailmail_error_code)
        self.assertIn(f"TRACK-{entry.snailmail_letter_id.id}", entry.snailmail_info)
        # Posted: the post room does not print it a second time.
        with self.assertRaises(UserError):
            self.env["collections.action"].with_user(self.collector).action_print_letters()
        # Posted letters are no longer in Snailmail's queue.
        with self._iap(lambda document: {"sent": True, "send_id": "AGAIN"}) as requests:
            self.env["snailmail.letter"]._snailmail_cron(autocommit=False)
        self.assertFalse(requests)

    def test_no_credit_shows_on_the_log_and_is_retried(self):
        self._run_as_collector()
        with self._iap(lambda document: {"sent": False, "error": "CREDIT_ERROR"}) as requests:
            self.env["snailmail.letter"]._snailmail_cron(autocommit=False)
        self.assertEqual(len(requests), 1, "Odoo's cron stops at the first credit error")
        entry = self.env["collections.action"].with_user(self.collector).search(
            [("snailmail_letter_id", "=", requests[0][1]["documents"][0]["letter_id"])])
        self.assertEqual(entry.snailmail_state, "error")
        self.assertEqual(entry.snailmail_error_code, "CREDIT_ERROR")
        self.assertIn("enough credits", entry.snailmail_info)
        self.assertEqual(entry.state, "done", "the letter was made: the log says what Snailmail did with it")
        self.assertIn(entry, self.env["collections.action"].with_user(self.collector).search(
            [("snailmail_state", "=", "error")]), "the filter Snailmail Errors finds it")
        # Still Snailmail's: not printed, and posted once credits are bought.
        with self.assertRaises(UserError):
            entry.action_print_letters()
        with self._iap(lambda document: {"sent": True, "send_id": "TRACK"}):
            self.env["snailmail.letter"]._snailmail_cron(autocommit=False)
        entry.invalidate_recordset()
        self.assertEqual(entry.snailmail_state, "sent")

    def test_incomplete_address_is_an_error_at_once_and_a_cancelled_letter_is_printed(self):
        self.customer.country_id = False  # Snailmail needs the country; the letter itself does not
        self._run_as_collector()
        entry = self._entry(self.customer).with_user(self.collector)
        self.assertEqual(entry.snailmail_state, "error")
        self.assertEqual(entry.snailmail_error_code, "MISSING_REQUIRED_FIELDS")
        self.assertIn("address", entry.snailmail_info)
        with self.assertRaises(UserError):
            entry.action_print_letters()
        # The collector gives up on posting it: the post room prints it.
        entry.snailmail_letter_id.cancel()
        entry.invalidate_recordset()
        self.assertEqual(entry.snailmail_state, "canceled")
        action = entry.action_print_letters()
        self.assertEqual(action["type"], "ir.actions.act_url")

    def test_address_completed_then_posted(self):
        self.customer.country_id = False
        self._run_as_collector()
        entry = self._entry(self.customer)
        self.customer.country_id = self.env.ref("base.be")  # Snailmail updates its queued letters
        with self._iap(lambda document: {"sent": True, "send_id": "TRACK"}):
            self.env["snailmail.letter"]._snailmail_cron(autocommit=False)
        entry.invalidate_recordset()
        self.assertEqual(entry.snailmail_state, "sent")

    def test_the_link_is_the_server_own(self):
        self._run_as_collector()
        entry = self._entry(self.customer)
        letter = entry.snailmail_letter_id
        other_letter = self._entry(self.other).snailmail_letter_id
        for user in (self.collector, self.manager):
            with self.assertRaises(UserError):
                entry.with_user(user).write({"snailmail_letter_id": other_letter.id})
            with self.assertRaises(UserError):
                entry.with_user(user).write({"snailmail_letter_id": False})
        with self.assertRaises(AccessError):
            self.env["collections.action"].with_user(self.manager).create({
                "partner_id": self.customer.id, "channel": "letter", "snailmail_letter_id": letter.id,
            })
        self.assertEqual(entry.snailmail_letter_id, letter)
        # Linked once: the run's own link is not moved either.
        entry.sudo()._collections_link_snailmail(other_letter)
        self.assertEqual(entry.snailmail_letter_id, letter)
