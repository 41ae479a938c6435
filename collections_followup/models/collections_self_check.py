import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import float_compare, format_amount

_logger = logging.getLogger(__name__)


class CollectionsSelfCheck(models.AbstractModel):
    """Every night: do the addon's figures equal the ledger's? Per company.

    - the ledger: Odoo's own open receivable (posted receivable journal items not reconciled,
      read with the ORM, nothing of the addon's);
    - the open items the addon reads for reminders, letters, statements and the worklist;
    - the receivables aging report, which the dashboard shows;
    - today's decisions (what the run, the forms and the worklist go by): their total due, and their overdue net
      of credits against the same figure worked out from the journal items customer by customer.
    A difference creates a task for the company's Collections Managers with the figures
    (once a day per company) and a warning in the server log."""

    _name = "collections.self.check"
    _description = "Collections: nightly check against the ledger"

    @api.model
    def _cron_self_check(self):
        today = fields.Date.context_today(self)
        # sudo: the scheduled job reads every company's figures and writes tasks for its managers.
        # The companies that use Collections: those with a default policy (as the weekly digest).
        for company in self.env["collections.policy"]._followed_companies():
            broken = self.env["collections.action"].sudo()._collections_check_seals(company)
            if broken:
                _logger.warning("Collections self-check for %s: %s log entries no longer match what was sent: %s",
                                company.name, len(broken), broken.ids)
                if self.env["collections.job.period"]._claim("self_check_seals", company, today):
                    self.sudo()._ask_managers_seals(company, broken)
            figures = self.sudo()._figures(company)
            if not self._disagree(company, figures):
                continue
            _logger.warning("Collections self-check for %s: figures differ from the ledger: %s", company.name, figures)
            if self.env["collections.job.period"]._claim("self_check", company, today):
                self.sudo()._ask_managers(company, figures)

    @api.model
    def _figures(self, company, today=None):
        """{label key: amount}, company currency: the receivable as each reader has it (``_disagree``: all equal
        to the ledger's), then what is overdue net of credits as the decisions have it and as the ledger's journal
        items say (``_disagree``: the two equal)."""
        Line = self.env["account.move.line"].with_company(company)
        ledger = Line._read_group([
            ("company_id", "child_of", company.root_id.id), ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"), ("reconciled", "=", False),
        ], [], ["amount_residual:sum"])[0][0] or 0.0
        items = self.env["collections.ledger"]._open_items(company, pauses=False)
        reader = float(sum((item.residual for partner_items in items.values() for item in partner_items), 0))
        aging = self.env["collections.aging.report"]._read_group(
            [("company_id", "=", company.id)], [], ["amount_residual:sum"])[0][0] or 0.0
        dashboard = sum(row["amount"] for row in self.env["collections.dashboard"]._aging(company))
        today = today or fields.Date.context_today(self)
        # What the run, the forms and the worklist decide on: each customer's decision of today.
        decisions = self.env["res.partner"].browse(items)._collections_decide(company, today, items=items)
        decided = [decision for _policy, decision in decisions.values()]
        return {
            "ledger": ledger, "open_items": reader, "aging": aging, "dashboard": dashboard,
            "decided_due": float(sum((decision.total_due for decision in decided), 0)),
            "overdue_ledger": self._ledger_overdue(company, today),
            "overdue_decided": float(sum((decision.net_overdue for decision in decided), 0)),
        }

    @api.model
    def _ledger_overdue(self, company, today):
        """Every customer's overdue net of its unapplied credits (never below zero), summed, from Odoo's journal
        items through the ORM (nothing of the addon's reader): debts due before today and followed up, less
        credits of any flag; an exchange difference (a foreign item with nothing left in its currency, or the
        customer's items in a foreign currency that together owe nothing in it) counts neither way."""
        lines = self.env["account.move.line"].with_company(company).search_fetch([
            ("company_id", "child_of", company.root_id.id), ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"), ("reconciled", "=", False),
            ("amount_residual", "!=", 0), ("partner_id", "!=", False),
        ], ["partner_id", "account_id", "currency_id", "company_currency_id", "amount_residual",
            "amount_residual_currency", "no_followup", "date_maturity", "date"])
        lines.partner_id.fetch(["commercial_partner_id"])
        in_currency = defaultdict(float)
        for line in lines:
            in_currency[(line.partner_id.commercial_partner_id, line.account_id, line.currency_id)] += \
                line.amount_residual_currency
        debts, credits = defaultdict(float), defaultdict(float)
        for line in lines:
            customer = line.partner_id.commercial_partner_id
            if line.currency_id != line.company_currency_id and (
                    line.currency_id.is_zero(line.amount_residual_currency)
                    or line.currency_id.is_zero(in_currency[(customer, line.account_id, line.currency_id)])):
                continue
            if line.amount_residual < 0:
                credits[customer] -= line.amount_residual
            elif not line.no_followup and (line.date_maturity or line.date) < today:
                debts[customer] += line.amount_residual
        return sum(max(debts[customer] - credits[customer], 0.0) for customer in debts.keys() | credits.keys())

    @api.model
    def _disagree(self, company, figures):
        rounding = company.currency_id.rounding
        receivable = ("ledger", "open_items", "aging", "dashboard", "decided_due")
        return any(float_compare(figures[key], figures["ledger"], precision_rounding=rounding)
                   for key in receivable) or \
            float_compare(figures["overdue_decided"], figures["overdue_ledger"], precision_rounding=rounding) != 0

    @api.model
    def _managers(self, company):
        group = self.env.ref("collections_followup.group_collections_manager")
        return self.env["res.users"].search([
            ("all_group_ids", "in", group.id), ("company_ids", "in", company.id), ("share", "=", False),
            ("id", "!=", self.env.ref("base.user_root").id),
        ])

    @api.model
    def _ask_managers_seals(self, company, broken):
        """A task for each manager: these log entries' messages or documents changed since they were sent."""
        rows = Markup("").join(
            Markup("<li>%s, %s (#%s)</li>") % (entry.display_name, entry.date, entry.id) for entry in broken[:50]
        )
        note = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("%s log entries no longer match what was sent (their message or document was changed or "
                       "deleted outside Collections). The log is evidence: find out who changed them.", len(broken)),
            rows,
        )
        for manager in self._managers(company):
            company.partner_id.activity_schedule(
                "mail.mail_activity_data_todo", user_id=manager.id,
                summary=self.env._("Collections log: what was sent has been changed"), note=note,
            )

    @api.model
    def _ask_managers(self, company, figures):
        managers = self._managers(company)
        currency = company.currency_id
        labels = {
            "ledger": self.env._("Ledger: open receivable (Odoo's journal items)"),
            "open_items": self.env._("Open items read by Collections (reminders, statements, worklist)"),
            "aging": self.env._("Receivables aging report"),
            "dashboard": self.env._("Dashboard aging"),
            "decided_due": self.env._("Total due in today's decisions (forms, worklist, run)"),
            "overdue_ledger": self.env._("Ledger: overdue net of unapplied credits, customer by customer"),
            "overdue_decided": self.env._("Overdue net of credits in today's decisions (what reminders ask)"),
        }
        rows = Markup("").join(
            Markup("<li>%s: %s</li>") % (labels[key], format_amount(self.env, amount, currency))
            for key, amount in figures.items()
        )
        note = Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("The nightly check found amounts that do not match. Until this is explained, "
                       "reminders and statements may state wrong amounts."), rows,
        )
        for manager in managers:
            company.partner_id.activity_schedule(
                "mail.mail_activity_data_todo", user_id=manager.id,
                summary=self.env._("Collections figures differ from the ledger"),
                note=note,
            )
