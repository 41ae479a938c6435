import io
from datetime import date, timedelta

from odoo.tests import new_test_user
from odoo.tools.pdf import PdfFileReader

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.mail.tests.common import MailCommon

TODAY = date(2026, 3, 31)


def pdf_pages(content):
    """The text of each page of a PDF, single-spaced (wkhtmltopdf places words one by one). PyPDF2 1.26,
    which Odoo's requirements pin on Python 3.10, names the method extractText."""
    pages = []
    for page in PdfFileReader(io.BytesIO(content)).pages:
        extract = getattr(page, "extract_text", None) or page.extractText
        pages.append(" ".join(extract().split()))
    return pages


class CollectionsCommon(AccountTestInvoicingCommon, MailCommon):
    """A company with the default policy, a collector and a few customers.

    Dates are relative to TODAY; tests run under freeze_time(TODAY)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.email = "ar@company.example.com"
        cls.policy = cls.env["collections.policy"]._get_default_policy(cls.company)
        levels = cls.policy.level_ids.sorted("delay")
        cls.level_courtesy, cls.level_first, cls.level_second, cls.level_final = levels
        cls.collector = new_test_user(
            cls.env, login="collector_test", name="Colin Collector", email="colin@company.example.com",
            groups="collections_followup.group_collections_user",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )
        cls.manager = new_test_user(
            cls.env, login="collections_manager_test", name="Mona Manager", email="mona@company.example.com",
            groups="collections_followup.group_collections_manager",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )
        cls.salesman = new_test_user(
            cls.env, login="salesman_test", name="Sam Sales", email="sam@company.example.com",
            groups="base.group_user,base.group_partner_manager",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )
        cls.billing = new_test_user(
            cls.env, login="billing_test", name="Bill Billing", email="bill@company.example.com",
            groups="account.group_account_invoice",
            company_id=cls.company.id, company_ids=[cls.company.id],
        )
        # Tests run at midnight (freeze_time): the contact hours are tested on their own
        # (test_contact_rules), the other tests are about what is sent, not when.
        cls.env["collections.policy"].sudo().search([]).contact_rules = False
        cls.customer = cls._customer("Acme Corp", "acme@example.com")
        # The test environment's user is an accountant, not a collector.
        cls.customer.with_company(cls.company).sudo().collections_user_id = cls.collector

    @classmethod
    def _customer(cls, name, email):
        return cls.env["res.partner"].create({
            "name": name,
            "email": email,
            "is_company": True,
            "street": "12 Rue de la Loi",
            "zip": "1000",
            "city": "Brussels",
            "property_account_receivable_id": cls.company_data["default_account_receivable"].id,
        })

    @classmethod
    def _invoice(cls, partner, amount, days_late, currency=None, company_data=None, post=True):
        company_data = company_data or cls.company_data
        due = TODAY - timedelta(days=days_late)
        move = cls.env["account.move"].with_company(company_data["company"]).create({
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "journal_id": company_data["default_journal_sale"].id,
            "currency_id": (currency or company_data["currency"]).id,
            "invoice_date": due - timedelta(days=30),
            "invoice_date_due": due,
            "invoice_line_ids": [(0, 0, {
                "name": "Consulting",
                "quantity": 1,
                "price_unit": amount,
                "tax_ids": [(6, 0, [])],
                "account_id": company_data["default_account_revenue"].id,
            })],
        })
        if post:
            move.action_post()
        return move

    @classmethod
    def _pay(cls, move, amount, when=TODAY):
        return cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids,
        ).create({
            "amount": amount,
            "payment_date": when,
            "payment_difference_handling": "open",
        })._create_payments()

    @classmethod
    def _reached(cls, move, level, when):
        """As an earlier run left it: every open receivable item of ``move`` reached ``level`` on ``when``."""
        Ledger = cls.env["collections.ledger"]
        Ledger._set_levels(dict.fromkeys(Ledger._open_lines_of(move).ids, (level.id or None, when)))

    def _run(self, company=None, today=TODAY):
        company = company or self.company
        return self.env["collections.run"].with_company(company)._run_company(company, today)

    def _actions(self, partner, **filters):
        domain = [("partner_id", "=", partner.id)] + [(k, "=", v) for k, v in filters.items()]
        return self.env["collections.action"].search(domain)

    def _mails_to(self, partner):
        return [mail for mail in self._new_mails if partner in mail.recipient_ids]
