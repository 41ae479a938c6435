from datetime import date
from typing import NamedTuple

import babel.dates
from dateutil.relativedelta import relativedelta
from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import float_is_zero, float_round
from odoo.tools.misc import babel_locale_parse, format_date, get_lang, posix_to_ldml


class Reminder(NamedTuple):
    """What one customer's reminder email is about: the reminder templates' input.

    ``move_ids``: the documents it lists; ``listed_items``: of those, the decision's (move id, days late)
    of each listed item (the instalments of an invoice one by one), None to list what the level's window
    lists; ``fees``: the late fees it announces ((invoice name, amount, days late), ...). Immutable and
    hashable: the rendering context carries a batch of them (collections.send._render_emails)."""

    level_id: int
    move_ids: tuple
    listed_items: tuple | None = None
    fees: tuple = ()


class TableFormat:
    """Amounts and dates of a reminder's table, written as Odoo's QWeb ``monetary`` and ``date`` widgets write
    them (ir.qweb.field.monetary / ir.qweb.field.date), with the language and each currency read once per table
    instead of once per cell: a table holds dozens of them, and the widgets' lookups were a tenth of a run's
    time. An amount is the widget's text without its ``oe_currency_value`` span, which an email client ignores:
    each element of a message body costs Odoo's HTML sanitizer when the message is stored (two a row)."""

    def __init__(self, env):
        self.env = env
        lang = get_lang(env)
        self.lang = env["res.lang"].browse(lang.id)
        self.locale = babel_locale_parse(lang.code)
        self.date_pattern = posix_to_ldml(lang.date_format, locale=self.locale)
        self.currencies = {}

    def date(self, value):
        if not value:
            return ""
        if type(value) is not date:  # a datetime or a string: converted as the widget converts them
            return format_date(self.env, value)
        return babel.dates.format_date(value, format=self.date_pattern, locale=self.locale)

    def money(self, value, currency):
        if not isinstance(value, (int, float)):
            raise ValueError(f"An amount of a reminder's table is not a number: {value!r}")
        known = self.currencies.get(currency.id)
        if known is None:
            symbol = currency.symbol or ""
            before = currency.position == "before"
            known = self.currencies[currency.id] = (
                currency.decimal_places, currency.rounding,
                f"{symbol}\N{NO-BREAK SPACE}" if before else "", "" if before else f"\N{NO-BREAK SPACE}{symbol}")
        places, rounding, pre, post = known
        if float_is_zero(value, precision_digits=places):
            value = 0.0
        amount = self.lang.format(f"%.{places}f", float_round(value, precision_rounding=rounding), grouping=True)
        amount = amount.replace(" ", "\N{NO-BREAK SPACE}").replace("-", "-\N{ZERO WIDTH NO-BREAK SPACE}")
        return escape(f"{pre}{amount}{post}")


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Read by the reminder templates (which may not call private methods): `object.collections_mail_table`.
    collections_mail_table = fields.Html(
        compute="_compute_collections_mail_table", sanitize=False,
        groups="account.group_account_invoice",
        help="Table of the open invoices shown in reminders.",
    )

    @api.depends_context("company", "lang", "collections_reminders")
    def _compute_collections_mail_table(self):
        """The invoice table of a reminder, for every customer being rendered at once: the ledger rows of
        all of them are read in the same few queries (collections.ledger._reminder_rows_many).

        A mail template reads the table as a field of the customer, so what each reminder is about reaches
        it in the rendering context: ``collections_reminders``, ((partner id, Reminder), ...), set by the
        sending service around the template only. A customer without one (a template previewed in the
        editor) gets the table of everything open."""
        today = fields.Date.context_today(self)
        company = self.env.company
        reminders = self._collections_reminders()
        Ledger = self.env["collections.ledger"]
        Level = self.env["collections.level"]
        used = Level.browse({reminder.level_id for reminder in reminders.values() if reminder.level_id}).exists()
        levels = {level.id: level for level in used}
        which = {}
        for partner in self:
            reminder = reminders.get(partner.id)
            if reminder:
                level = levels.get(reminder.level_id, Level)
                which[partner.commercial_partner_id.id] = {
                    "move_ids": reminder.move_ids, **Ledger._lines_filter(level, reminder.listed_items)}
        rows = Ledger._reminder_rows_many(self, company, which)
        for partner in self:
            reminder = reminders.get(partner.id) or Reminder(False, None)
            level = levels.get(reminder.level_id, Level)
            lines = rows[partner.commercial_partner_id.id]
            partner.collections_mail_table = partner._collections_render_table(level, lines, reminder.fees, today)

    @api.model
    def mail_allowed_qweb_expressions(self):
        # The reminder templates' placeholders. A body made of allowed expressions only is rendered without Odoo's
        # QWeb engine (mail.render.mixin._render_template_qweb_regex: no compiling of the template for each
        # customer, a twentieth of a run's time), and users who are not template editors may make a variant of a
        # template made of them only.
        return (*super().mail_allowed_qweb_expressions(), "object.commercial_partner_id.name", "object.lang",
                "object.collections_company_id.name", "object.collections_company_id.email_formatted",
                "object.collections_mail_table")

    def _collections_reminders(self):
        """{partner id: Reminder} being rendered (collections.send._render_emails). Anything else under the key (a
        context sent over RPC holds plain lists, never a Reminder) is ignored: the table then lists what is open."""
        value = self.env.context.get("collections_reminders") or ()
        try:
            return {partner_id: reminder for partner_id, reminder in value if isinstance(reminder, Reminder)}
        except (TypeError, ValueError):
            return {}

    def _collections_render_table(self, level, lines, fees, today: date):
        self.ensure_one()
        policy = level.policy_id or self._collections_policy(self.env.company)
        days = policy.account_link_days
        return self.env["ir.qweb"]._render("collections_followup.mail_invoice_table", {
            "partner": self,
            "lines": lines,
            "totals": self.env["collections.ledger"]._totals(lines),
            "fees": self.env["collections.fee"]._announced(fees),
            "company_currency": self.env.company.currency_id,
            "fmt": TableFormat(self.env),
            # The account link (res_partner_link): the customer's account without a login.
            "account_link": self._collections_account_link(days, today),
            "account_link_expiry": today + relativedelta(days=days),
            # Whom the reminders are written to (the run's own recipients), so the customer can correct it.
            "recipients": self._collections_recipients().mapped("email"),
            # What the reminder's level attaches (collections.send._email_args), said only then: the invoices'
            # PDFs (none for a debt that is not an invoice, e.g. an opening balance), the statement.
            "attached": {(True, True): "both", (True, False): "invoices", (False, True): "statement"}.get(
                (bool(level.attach_invoices and any(row["move"].is_invoice() and not row["credit"] for row in lines)),
                 bool(level.attach_statement)), False),
        })
