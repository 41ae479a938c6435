import logging

from lxml import html

from odoo.tests import HttpCase, freeze_time, tagged

from .common import TODAY, CollectionsCommon, pdf_pages

_logger = logging.getLogger(__name__)


def pdf_text(content):
    return " ".join(pdf_pages(content))


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestReports(CollectionsCommon, HttpCase):
    """HttpCase: wkhtmltopdf fetches the report's assets from the test server,
    which must share the test transaction or it waits on its locks forever."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.old = cls._invoice(cls.customer, 1500.0, 100)
        cls.recent = cls._invoice(cls.customer, 400.0, 15)
        cls.future = cls._invoice(cls.customer, 250.0, -10)
        cls._pay(cls.old, 500.0, TODAY)

    def _render(self, xmlid, data=None):
        """Text of the report's PDF, as the collector prints it.

        wkhtmltopdf builds without patched Qt (Debian's) draw web fonts as
        outlines, leaving the PDF without a text layer; the amounts are then
        read from the HTML page that wkhtmltopdf converted."""
        report = self.env.ref(xmlid).with_user(self.collector).with_context(force_report_rendering=True)
        content, kind = report._render_qweb_pdf(report.report_name, self.customer.ids, data=data)
        self.assertEqual(kind, "pdf")
        self.assertEqual(len(pdf_pages(content)), 1)
        text = pdf_text(content)
        if not text:
            _logger.info("%s: the PDF has no text layer (unpatched wkhtmltopdf); reading its HTML", xmlid)
            page, _kind = report._render_qweb_html(report.report_name, self.customer.ids, data=data)
            text = " ".join(html.fromstring(page).text_content().split())
        return text

    def test_statement_shows_open_items_aging_and_payments(self):
        text = self._render("collections_followup.action_report_collections_statement")
        self.assertIn("Statement of Account", text)
        for move in (self.old, self.recent, self.future):
            self.assertIn(move.name, text)
        self.assertIn("1,000.00", text)   # 1500 - 500 paid, in the 91-120 bucket
        self.assertIn("400.00", text)     # 1-30 bucket
        self.assertIn("250.00", text)     # not due
        self.assertIn("1,650.00", text)   # total due
        # the account's activity from the journal items, with a running balance that ends on the total due
        self.assertIn("Account activity since", text)
        self.assertRegex(text, r"Balance brought forward \$ 1,500\.00")
        self.assertRegex(text, r"Payment.*\$ 500\.00 \$ 1,650\.00 Balance \$ 1,650\.00")

    def test_letter_lists_the_overdue_invoices_with_the_level(self):
        text = self._render(
            "collections_followup.action_report_followup_letter",
            data={"level_id": self.level_final.id, "move_ids": (self.old | self.recent).ids},
        )
        self.assertIn("Final notice", text)
        self.assertIn(self.old.name, text)
        self.assertIn(self.recent.name, text)
        self.assertNotIn(self.future.name, text)
        self.assertIn("1,400.00", text)   # 1000 + 400 due
        self.assertIn("Acme Corp", text)
        self.assertIn("03/31/2026", text, "the letter is dated the day it is produced")
        self.assertEqual(text.count(self.old.name), 1, "a reference equal to the number is not repeated")
