import base64
import random
from datetime import timedelta

from odoo import fields
from odoo.http import request

from ..engine.forecast_book import delays

# Set while the demo's documents wait for a server to render them (see populate_documents).
DOCUMENTS_PENDING = "collections_followup.demo_documents_pending"

# (customer, email, country code, [(days late, amount, paid share)]);
# negative days late: not yet due.
DEMO_CUSTOMERS = [
    ("Harbor Logistics", "accounts@harbor-logistics.example.com", "US", [(5, 1250.0, 0)]),
    ("Pinecrest Dental", "billing@pinecrest-dental.example.com", "US", [(20, 830.0, 0), (-10, 410.0, 0)]),
    ("Blue Fjord Seafood", "finance@bluefjord.example.com", "NO", [(45, 4200.0, 0)]),
    ("Cobalt Print Works", "ap@cobaltprint.example.com", "US", [(75, 2975.5, 0), (20, 640.0, 0)]),
    ("Meridian Architects", "invoices@meridian-arch.example.com", "GB", [(120, 9800.0, 0.4)]),
    ("Sunvale Grocers", "payables@sunvale.example.com", "US", [(-3, 560.0, 0)]),
    ("Northwind Traders", "ar@northwind.example.com", "US", [(5, 310.0, 0), (45, 1890.0, 0.5)]),
    ("Atlas Fitness Clubs", "accounting@atlasfit.example.com", "US", [(20, 1450.0, 0)]),
    ("Greenleaf Landscaping", "office@greenleaf.example.com", "US", [(75, 720.0, 0)]),
    ("Orion Software GmbH", "buchhaltung@orion-software.example.com", "DE", [(45, 12500.0, 0)]),
    ("Redwood Furniture", "", "US", [(20, 2300.0, 0)]),  # no email: logged as failed
    ("Quartz Medical Supplies", "ap@quartzmed.example.com", "US", [(120, 5400.0, 0), (5, 800.0, 0)]),
    ("Lakeside Hotel Group", "finance@lakeside-hotels.example.com", "US", [(45, 3300.0, 0)]),  # excluded invoice
    ("Vertex Engineering", "payables@vertex-eng.example.com", "US", [(-20, 4100.0, 0)]),
    ("Copperline Electric", "billing@copperline.example.com", "US", [(20, 980.0, 0.25), (75, 1500.0, 0)]),
    ("Maple & Finch Bakery", "hello@maplefinch.example.com", "CA", [(5, 145.0, 0)]),
]
# Phone (as customers write it, read with their country) and time zone.
DEMO_CONTACTS = {
    "Harbor Logistics": ("(206) 555-0173", "America/Los_Angeles"),
    "Pinecrest Dental": ("(303) 555-0126", "America/Denver"),
    "Blue Fjord Seafood": ("22 12 34 56", "Europe/Oslo"),
    "Cobalt Print Works": ("(312) 555-0110", "America/Chicago"),
    "Meridian Architects": ("020 7946 0958", "Europe/London"),
    "Sunvale Grocers": ("(415) 555-0199", "America/Los_Angeles"),
    "Northwind Traders": ("(212) 555-0142", "America/New_York"),
    "Atlas Fitness Clubs": ("(305) 555-0188", "America/New_York"),
    "Greenleaf Landscaping": ("(512) 555-0131", "America/Chicago"),
    "Orion Software GmbH": ("030 12345678", "Europe/Berlin"),
    "Redwood Furniture": ("555 12", "America/Los_Angeles"),  # invalid: the SMS fails, a task asks to fix it
    "Quartz Medical Supplies": ("(617) 555-0164", "America/New_York"),
    "Lakeside Hotel Group": ("(406) 555-0177", "America/Denver"),
    "Vertex Engineering": ("(713) 555-0102", "America/Chicago"),
    "Copperline Electric": ("(602) 555-0155", "America/Phoenix"),
    "Maple & Finch Bakery": ("(416) 555-0123", "America/Toronto"),
}
# Street, postcode, city: where follow-up letters are posted.
DEMO_ADDRESSES = {
    "Harbor Logistics": ("2200 Alaskan Way", "98121", "Seattle"),
    "Pinecrest Dental": ("1650 Pine Street", "80203", "Denver"),
    "Blue Fjord Seafood": ("Bryggen 14", "5003", "Bergen"),
    "Cobalt Print Works": ("455 N Wells Street", "60654", "Chicago"),
    "Meridian Architects": ("27 Old Gloucester Street", "WC1N 3AX", "London"),
    "Sunvale Grocers": ("890 Valencia Street", "94110", "San Francisco"),
    "Northwind Traders": ("120 Broadway", "10271", "New York"),
    "Atlas Fitness Clubs": ("1401 Brickell Avenue", "33131", "Miami"),
    "Greenleaf Landscaping": ("701 Congress Avenue", "78701", "Austin"),
    "Orion Software GmbH": ("Friedrichstraße 68", "10117", "Berlin"),
    "Redwood Furniture": ("3100 Lincoln Way", "94122", "San Francisco"),
    "Quartz Medical Supplies": ("200 Boylston Street", "02116", "Boston"),
    "Lakeside Hotel Group": ("1 Lakeshore Drive", "59937", "Whitefish"),
    "Vertex Engineering": ("1000 Louisiana Street", "77002", "Houston"),
    "Copperline Electric": ("2 N Central Avenue", "85004", "Phoenix"),
    "Maple & Finch Bakery": ("250 Queen Street West", "M5V 1Z6", "Toronto"),
}
NO_SMS = "Maple & Finch Bakery"
FOREIGN_CURRENCY_CUSTOMER = "Orion Software GmbH"
# Harbor well within its limit, Cobalt at 90 % of it, Northwind over it.
DEMO_LIMITS = {"Harbor Logistics": 5000.0, "Cobalt Print Works": 4000.0, "Northwind Traders": 1000.0}
ON_HOLD = "Quartz Medical Supplies"
EXCLUDED_INVOICE_CUSTOMER = "Lakeside Hotel Group"
# How each customer paid over the last year (engine/forecast_book.py's behaviours): the cash forecast, the segments
# and the credit review read this history. A customer not listed paid on time.
DEMO_BEHAVIOURS = {
    "Pinecrest Dental": "late", "Blue Fjord Seafood": "partial", "Cobalt Print Works": "late",
    "Meridian Architects": "worse", "Northwind Traders": "erratic", "Atlas Fitness Clubs": "late",
    "Greenleaf Landscaping": "erratic", "Orion Software GmbH": "seasonal", "Quartz Medical Supplies": "never",
    "Copperline Electric": "worse",
}
HISTORY_MONTHS = 12
# What real books hold besides plain invoices: an invoice on instalments and a credit note not applied yet.
LEDGER_CASES_CUSTOMER = "Blue Fjord Seafood"


def populate(env):
    """Realistic overdue customers for the demo database (`make run`): called by the addon's post-init
    hook when it is installed with demo data; not a model, so nothing of it is in a production registry.

    The steps that render PDFs (a plan's agreement, sent when it is proposed or accepted) need a server
    for the report's styles (wkhtmltopdf loads them over HTTP): installed from the command line (`make run`
    creating its database: no server yet), they wait for populate_documents, which `make run` calls once
    the database is served (tools/demo_documents.py)."""
    data = DemoData(env)
    data._populate()
    if request:
        data._populate_documents()
    else:
        env["ir.config_parameter"].sudo().set_param(DOCUMENTS_PENDING, "1")


def populate_documents(env, url):
    """The demo's PDF steps, rendered with the styles served at ``url`` (a running server of this database);
    nothing when they are done. Returns True when it did them."""
    parameters = env["ir.config_parameter"].sudo()
    if not parameters.get_param(DOCUMENTS_PENDING):
        return False
    previous = parameters.get_param("report.url")
    parameters.set_param("report.url", url)
    DemoData(env)._populate_documents()
    parameters.set_param("report.url", previous or False)
    parameters.set_param(DOCUMENTS_PENDING, False)
    return True


class DemoData:
    def __init__(self, env):
        self.env = env

    def _populate(self):
        company = self.env.company
        # Called from the post-init hook once the policies exist; ensured again for a direct call.
        company._collections_ensure_default_policy()
        journal = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", company.id)], limit=1,
        )
        bank = self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1,
        )
        if not journal or not bank:
            return
        product = self.env.ref("product.product_product_4", raise_if_not_found=False) or \
            self.env["product.product"].search([("sale_ok", "=", True)], limit=1)
        eur = self.env.ref("base.EUR")
        if company.currency_id != eur:
            eur.active = True
        collector = self.env["res.users"].create({
            "name": "Casey Collector",
            "login": "collector",
            "password": "collector",
            "email": "casey.collector@example.com",
            "group_ids": [(4, self.env.ref("collections_followup.group_collections_user").id)],
        })
        today = fields.Date.context_today(self)
        for name, email, country, invoices in DEMO_CUSTOMERS:
            partner = self.env["res.partner"].create({
                "name": name,
                "is_company": True,
                "email": email or False,
                "country_id": self.env["res.country"].search([("code", "=", country)], limit=1).id,
                "street": DEMO_ADDRESSES[name][0],
                "zip": DEMO_ADDRESSES[name][1],
                "city": DEMO_ADDRESSES[name][2],
                "phone": DEMO_CONTACTS[name][0],
                "tz": DEMO_CONTACTS[name][1],
                "collections_no_sms": name == NO_SMS,
            })
            partner.with_company(company).collections_user_id = collector
            currency = eur if name == FOREIGN_CURRENCY_CUSTOMER and company.currency_id != eur else company.currency_id
            for late, amount, paid in invoices:
                due = today - timedelta(days=late)
                move = self.env["account.move"].create({
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "currency_id": currency.id,
                    "invoice_date": due - timedelta(days=30),
                    "invoice_date_due": due,
                    "invoice_line_ids": [(0, 0, {
                        "product_id": product.id,
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [(6, 0, [])],
                    })],
                })
                move.action_post()
                if paid:
                    self.env["account.payment.register"].with_context(
                        active_model="account.move", active_ids=move.ids,
                    ).create({
                        "amount": round(amount * paid, 2),
                        "journal_id": bank.id,
                        "payment_date": due,
                        "payment_difference_handling": "open",
                    })._create_payments()
                if name == EXCLUDED_INVOICE_CUSTOMER:
                    move.no_followup = True
            self._populate_history(partner, journal, bank, product, currency, today)
        self._populate_ledger_cases(company, journal, product, today)
        self._populate_credit(company)
        self._populate_contact(company, collector, today)
        self._populate_arrangements(company, collector, today)
        self._populate_escalations(company, collector, today)
        # Scores and segments as the nightly job would leave them.
        self.env["collections.segment"]._segment_company(company, today)

    def _populate_history(self, partner, journal, bank, product, currency, today):
        """A year of monthly invoices, settled as the customer's behaviour says (DEMO_BEHAVIOURS): paid on the
        day it pays (never after yesterday), or cancelled by a credit note when it never pays. Nothing of it is
        left open: the demo's open invoices are the ones above."""
        behaviour = DEMO_BEHAVIOURS.get(partner.name, "on_time")
        rng = random.Random(partner.name)
        start = today - timedelta(days=30 * HISTORY_MONTHS + 90)
        for month in range(HISTORY_MONTHS, 0, -1):
            due = today - timedelta(days=30 * month + 60)
            move = self.env["account.move"].create({
                "move_type": "out_invoice", "partner_id": partner.id, "journal_id": journal.id,
                "currency_id": currency.id, "invoice_date": due - timedelta(days=30), "invoice_date_due": due,
                "invoice_line_ids": [(0, 0, {"product_id": product.id, "quantity": 1,
                                             "price_unit": round(rng.uniform(400, 2500), 2), "tax_ids": [(6, 0, [])]})],
            })
            move.action_post()
            parts = delays(behaviour, due, start, rng)
            for index, (delay, share) in enumerate(parts):
                last = index == len(parts) - 1
                if delay is None:  # never paid: cancelled by a credit note
                    self._credit_note(move, min(due + timedelta(days=180), today - timedelta(days=1)))
                    break
                amount = move.amount_residual if last else move.currency_id.round(move.amount_total * share)
                self.env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=move.ids,
                ).create({
                    "amount": amount, "journal_id": bank.id,
                    "payment_date": min(max(due + timedelta(days=delay), move.invoice_date), today - timedelta(days=1)),
                    "payment_difference_handling": "open",
                })._create_payments()

    def _credit_note(self, move, day):
        """``move`` cancelled by a credit note of ``day`` (posted, matched with it)."""
        move._reverse_moves([{"date": day, "invoice_date": day, "ref": "Uncollectable (demo history)"}], cancel=True)

    def _populate_ledger_cases(self, company, journal, product, today):
        """An invoice on a 30 % / 70 % payment term whose first instalment is late and a credit note not
        matched with any invoice: reminders, the statement and the portal list them as the ledger has them."""
        partner = self.env["res.partner"].search([("name", "=", LEDGER_CASES_CUSTOMER)], limit=1)
        term = self.env["account.payment.term"].create({
            "name": "30 % on invoice, 70 % in 60 days",
            "line_ids": [
                (0, 0, {"value": "percent", "value_amount": 30.0, "nb_days": 0}),
                (0, 0, {"value": "percent", "value_amount": 70.0, "nb_days": 60}),
            ],
        })
        moves = self.env["account.move"].create([{
            "move_type": move_type,
            "partner_id": partner.id,
            "journal_id": journal.id,
            "invoice_date": today - timedelta(days=days),
            "invoice_payment_term_id": term.id if move_type == "out_invoice" else False,
            "invoice_line_ids": [(0, 0, {
                "product_id": product.id, "quantity": 1, "price_unit": amount, "tax_ids": [(6, 0, [])],
                "name": label,
            })],
        } for move_type, days, amount, label in (
            ("out_invoice", 15, 6000.0, "Cold storage unit"),
            ("out_refund", 8, 350.0, "Damaged crates returned"),
        )])
        moves.action_post()

    def _populate_contact(self, company, collector, today):
        """SMS with the second reminder, and a call already planned for one customer."""
        policy = self.env["collections.policy"]._get_default_policy(company)
        policy.level_ids.filtered(lambda level: level.delay == 21).send_sms = True
        cobalt = self.env["res.partner"].search([("name", "=", "Cobalt Print Works")], limit=1)
        cobalt.activity_schedule(
            "mail.mail_activity_data_call", user_id=collector.id, date_deadline=today,
            summary="Call about the two overdue invoices",
        )

    def _populate_credit(self, company):
        """Credit limits (one customer near it, one over it) and a customer on hold."""
        company.account_use_credit_limit = True
        names = [*DEMO_LIMITS, ON_HOLD]
        partners = {p.name: p for p in self.env["res.partner"].search([("name", "in", names)])}
        for name, limit in DEMO_LIMITS.items():
            partners[name].with_company(company).with_context(
                collections_limit_reason="Demo data",
            ).credit_limit = limit
        partners[ON_HOLD]._collections_set_hold(
            "Two invoices over 120 days late, no answer to calls", "manual", company,
        )

    def _populate_arrangements(self, company, collector, today):
        """A plan in force, one waiting for the customer on the portal, a
        promise, a settlement to approve, and the portal login of a customer."""
        partners = {p.name: p for p in self.env["res.partner"].search([("name", "in", [
            "Meridian Architects", "Blue Fjord Seafood", "Atlas Fitness Clubs", "Copperline Electric",
        ])])}
        policy = self.env["collections.policy"]._get_default_policy(company)
        expense = self.env["account.account"].search([
            ("company_ids", "in", company.id), ("account_type", "=", "expense"),
        ], limit=1)
        policy.write({
            "writeoff_account_id": expense.id,
            "broken_plan_level_id": policy.level_ids.sorted("delay")[-2:-1].id,  # the second reminder
        })
        Plan = self.env["collections.payment.plan"].with_user(collector)
        Move = self.env["account.move"]

        def overdue(partner):
            return Move.search([
                ("partner_id", "=", partner.id), ("payment_state", "in", ("not_paid", "partial")),
                ("move_type", "=", "out_invoice"), ("invoice_date_due", "<", today),
            ])

        running = Plan.create({
            "partner_id": partners["Meridian Architects"].id,
            "move_ids": [(6, 0, overdue(partners["Meridian Architects"]).ids)],
            "instalment_count": 6,
            "frequency": "monthly",
            "first_date": today + timedelta(days=5),
            "signed_document": base64.b64encode(b"%PDF-1.4 demo signed agreement"),
            "signed_document_name": "signed-agreement.pdf",
        })
        running.action_compute_schedule()
        waiting = Plan.create({
            "partner_id": partners["Blue Fjord Seafood"].id,
            "move_ids": [(6, 0, overdue(partners["Blue Fjord Seafood"]).ids)],
            "instalment_count": 4,
            "frequency": "biweekly",
            "first_date": today + timedelta(days=7),
            "down_payment": 600.0,
            "down_payment_date": today + timedelta(days=3),
        })
        waiting.action_compute_schedule()
        self.env["collections.promise"].with_user(collector).create({
            "partner_id": partners["Atlas Fitness Clubs"].id,
            "amount": 1450.0,
            "promised_date": today + timedelta(days=4),
            "channel": "phone",
            "note": "Accounts payable will run the payment with Friday's batch.",
        })
        settlement = self.env["collections.settlement"].with_user(collector).create({
            "partner_id": partners["Copperline Electric"].id,
            "move_ids": [(6, 0, overdue(partners["Copperline Electric"]).ids)],
            "amount_agreed": 1800.0,
            "deadline": today + timedelta(days=14),
            "reason": "Customer lost its main contract; offers 1,800 within two weeks for everything.",
        })
        settlement.action_submit()
        # The Blue Fjord accountant, to try the customer portal.
        contact = self.env["res.partner"].create({
            "name": "Ingrid Berg", "email": "ingrid@bluefjord.example.com",
            "parent_id": partners["Blue Fjord Seafood"].id,
        })
        self.env["res.users"].create({
            "name": contact.name, "login": "bluefjord", "password": "bluefjord", "partner_id": contact.id,
            "group_ids": [(6, 0, [self.env.ref("base.group_portal").id])],
        })

    def _populate_documents(self):
        """The steps that render a PDF: the paper agreement of Meridian Architects' plan accepted (in force), Blue
        Fjord Seafood's plan proposed to the customer (waiting for its signature on the portal)."""
        Plan = self.env["collections.payment.plan"]
        for customer, step in (("Meridian Architects", "action_accept_paper"),
                               ("Blue Fjord Seafood", "action_propose")):
            plan = Plan.search([("partner_id.name", "=", customer), ("state", "=", "draft")], limit=1)
            if plan:
                getattr(plan.with_user(plan.create_uid), step)()

    def _populate_escalations(self, company, collector, today):
        """A dispute, an agency with a placed case, reference rates and late
        fees on the last two levels, so that the daily run shows them."""
        partners = {p.name: p for p in self.env["res.partner"].search([("name", "in", [
            "Pinecrest Dental", "Quartz Medical Supplies", "Greenleaf Landscaping",
        ])])}
        Move = self.env["account.move"]
        pinecrest_late = Move.search([
            ("partner_id", "=", partners["Pinecrest Dental"].id), ("invoice_date_due", "<", today),
            ("move_type", "=", "out_invoice"),
        ], limit=1)
        self.env["collections.dispute"].with_user(collector).create({
            "partner_id": partners["Pinecrest Dental"].id,
            "move_ids": [(6, 0, pinecrest_late.ids)],
            "reason_id": self.env.ref("collections_followup.dispute_reason_price").id,
            "description": "The clinic says the maintenance contract price was 10% lower.",
        })
        agency = self.env["res.partner"].create({
            "name": "Northstar Recovery Services", "is_company": True, "email": "placements@northstar.example.com",
            "collections_is_agency": True, "collections_agency_commission": 18.0,
            "collections_agency_fixed_fee": 25.0,
        })
        quartz_old = Move.search([
            ("partner_id", "=", partners["Quartz Medical Supplies"].id), ("move_type", "=", "out_invoice"),
            ("invoice_date_due", "<", today - timedelta(days=100)),
        ])
        case = self.env["collections.case"].with_user(collector).create({
            "partner_id": partners["Quartz Medical Supplies"].id,
            "move_ids": [(6, 0, quartz_old.ids)],
            "agency_id": agency.id,
            "commission_rate": 18.0,
            "fixed_fee": 25.0,
            "note": "No answer to calls or letters since the summer.",
        })
        case.with_user(self.env.ref("base.user_admin")).action_approve()  # the administrator is a manager
        self.env["collections.case"].with_user(collector).create({
            "partner_id": partners["Greenleaf Landscaping"].id,
            "move_ids": [(6, 0, Move.search([("partner_id", "=", partners["Greenleaf Landscaping"].id),
                                            ("move_type", "=", "out_invoice")]).ids)],
            "agency_id": agency.id,
            "commission_rate": 18.0,
        })
        # Statutory interest: reference rate + 8 points; the final notice charges it.
        self.env["collections.interest.rate"].create([
            {"name": "Central bank reference rate", "date_from": "2025-01-01", "rate": 3.15, "company_id": company.id},
            {"name": "Central bank reference rate", "date_from": "2026-01-01", "rate": 2.15, "company_id": company.id},
        ])
        fee_product = self.env["product.product"].create({
            "name": "Late payment charges", "type": "service", "taxes_id": [(6, 0, [])], "sale_ok": False,
        })
        policy = self.env["collections.policy"]._get_default_policy(company)
        policy.write({"fee_product_id": fee_product.id, "agency_id": agency.id})
        levels = policy.level_ids.sorted("delay")
        levels[-2].write({"fee_type": "fixed", "fee_fixed": 15.0})
        levels[-1].write({"fee_type": "interest", "fee_compensation": 40.0})
