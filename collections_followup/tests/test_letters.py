import re

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged

from .common import TODAY, CollectionsCommon, pdf_pages


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestLetterBatch(CollectionsCommon, HttpCase):
    """Print Letters: one PDF of the day's letters, in postal order, for the collector who posts them.

    HttpCase: wkhtmltopdf fetches the letters' assets from the test server, which must share the test
    transaction or it waits on its locks forever (as TestReports)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.level_first.sudo().write({"print_letter": True, "send_email": False})
        cls.zips = {"Zenith Works": "9000", "Alpha Foods": "1000", "Middle Mills": "5000"}
        cls.letter_customers = cls.env["res.partner"]
        for name, zip_code in cls.zips.items():
            customer = cls._customer(name, f"{name.split()[0].lower()}@example.com")
            customer.zip = zip_code
            cls._invoice(customer, 500.0, 10)
            cls.letter_customers |= customer
        cls.other_collector = new_test_user(
            cls.env, login="collector_other", name="Olga Other", email="olga@company.example.com",
            groups="collections_followup.group_collections_user",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )

    def _run_with_pdfs(self):
        # Odoo's tests render reports as HTML unless asked for the PDF the post room prints.
        self.env["collections.run"].with_context(force_report_rendering=True).with_company(
            self.company)._run_company(self.company, TODAY)

    def _batch(self, action):
        attachment_id = int(re.search(r"/web/content/(\d+)", action["url"]).group(1))
        return self.env["ir.attachment"].with_user(self.collector).browse(attachment_id)

    def test_todays_letters_in_one_pdf_in_postal_order(self):
        self._run_with_pdfs()
        letters = self.env["collections.action"].search([("channel", "=", "letter"), ("state", "=", "done")])
        self.assertEqual(letters.partner_id, self.letter_customers)

        action = self.env["collections.action"].with_user(self.collector).action_print_letters()
        batch = self._batch(action)
        self.assertEqual(batch.mimetype, "application/pdf")
        self.assertIn("(3)", batch.name)
        self.assertEqual(letters._collections_in_postal_order().partner_id.mapped("name"),
                         ["Alpha Foods", "Middle Mills", "Zenith Works"])
        pages = pdf_pages(batch.raw)
        self.assertEqual(len(pages), sum(len(pdf_pages(entry.attachment_id.raw)) for entry in letters))
        if any(pages):  # wkhtmltopdf builds without patched Qt may draw text as outlines (no text layer)
            # Each letter starts on a page of its own, in postcode order.
            firsts = [next(i for i, text in enumerate(pages) if name in text)
                      for name in ("Alpha Foods", "Middle Mills", "Zenith Works")]
            self.assertEqual(firsts, sorted(firsts))
            self.assertEqual(len(set(firsts)), 3)

        # Selected letters only.
        one = letters.filtered(lambda entry: entry.partner_id.name == "Middle Mills")
        batch = self._batch(one.with_user(self.collector).action_print_letters())
        self.assertIn("(1)", batch.name)

        # The batch is the collector's: another collector may not download it.
        with self.assertRaises(AccessError):
            batch.with_user(self.other_collector).read(["raw"])

    def test_only_collectors_print_and_nothing_to_print_says_so(self):
        with self.assertRaises(UserError):
            self.env["collections.action"].with_user(self.collector).action_print_letters()
        self._run_with_pdfs()
        with self.assertRaises(AccessError):
            self.env["collections.action"].with_user(self.billing).action_print_letters()
        # Other entries of the day are not letters.
        postponement = self.env["collections.action"]._collections_log({
            "partner_id": self.customer.id, "channel": "postpone", "origin": "manual", "note": "Audit",
        })
        with self.assertRaises(UserError):
            postponement.with_user(self.collector).action_print_letters()

    def test_a_letter_as_posted_cannot_be_replaced_or_deleted(self):
        """The letter's PDF is what the customer received: sealed in the log, changed by nobody."""
        self.env["collections.run"].with_company(self.company)._run_company(self.company, TODAY)
        letter = self.env["collections.action"].search([("channel", "=", "letter"), ("state", "=", "done")], limit=1)
        document = letter.attachment_id
        self.assertTrue(document and letter.digest)
        for user in (self.collector, self.manager):
            attachment = document.with_user(user)
            with self.assertRaisesRegex(UserError, "in the collections log"):
                attachment.write({"raw": b"%PDF forged"})
            with self.assertRaisesRegex(UserError, "in the collections log"):
                attachment.unlink()
        with self.assertRaisesRegex(UserError, "in the collections log"):
            document.sudo().write({"name": "forged.pdf"})
        self.assertFalse(letter._collections_broken_seals())
        # Changed behind Odoo's back: the seal says so.
        self.env.cr.execute("UPDATE ir_attachment SET name = 'forged.pdf' WHERE id = %s", [document.id])
        self.env.invalidate_all()
        self.assertEqual(letter._collections_broken_seals(), letter)
