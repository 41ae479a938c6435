from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..engine import net_overdue
from ..engine.kpi import paid_after_contact
from .collections_kpi_snapshot import PERIOD_DAYS

PRODUCTIVITY_DAYS = 30
PAID_WINDOW_DAYS = 14

# (snapshot field, unit, better when): the dashboard's tiles (labels in the client).
TILES = [
    ("dso", "days", "down"),
    ("best_dso", "days", "down"),
    ("add", "days", "down"),
    ("cei", "%", "up"),
    ("share_current", "%", "up"),
    ("ar_overdue", "amount", "down"),
    ("promise_kept_rate", "%", "up"),
    ("disputes_open", "count", "down"),
]
TOP_CUSTOMERS = 10


class CollectionsDashboard(models.AbstractModel):
    """Figures of the Collections dashboard (client action), one call.

    Why its sudo() calls are safe: every figure is of one company, the one the user
    works in (``self.env.company`` is among the user's allowed companies), and every
    domain filters on it; ``get_data`` first checks the user is a collector or manager,
    the management report and the weekly digest are for collections managers. What comes
    back is totals and the names of customers and collectors, never another company's."""

    _name = "collections.dashboard"
    _description = "Collections Dashboard"

    @api.model
    def get_data(self):
        if not self.env.user.has_group("collections_followup.group_collections_user"):
            raise AccessError(self.env._("The collections dashboard is for collectors and their managers."))
        today = fields.Date.context_today(self)
        data = self._data(self.env.company, today)
        # sudo: the company's forecast of today, read as the tiles are (not in the report and digest: _data).
        data["forecast"] = self.env["collections.forecast"].sudo()._dashboard(self.env.company, today)
        return data

    @api.model
    def _data(self, company, day, days=PERIOD_DAYS):
        """The dashboard's numbers as of ``day``, trends against ``days`` before.

        Shared by the dashboard, the management report and the weekly digest,
        so that they always show the same figures."""
        # Figures are the company's (read as the scheduler would); callers check who asks.
        Snapshot = self.env["collections.kpi.snapshot"].sudo()
        now = Snapshot._figures(company, day, days)
        before = Snapshot._figures(company, day - timedelta(days=days), days)
        today = day
        tiles = [{
            "key": key,
            "unit": unit,
            "better": better,
            "value": now[key],
            "trend": round(now[key] - before[key], 1),
        } for key, unit, better in TILES]
        # No promise kept or broken in the period: the rate has no value (0 % read as "every promise broken" on the
        # bench book, which has none).
        if not Snapshot._closed_promises(company, day - timedelta(days=days), day):
            for tile in tiles:
                if tile["key"] == "promise_kept_rate":
                    tile.update(value=None, trend=None)
        return {
            "company": company.name,
            "currency": {"symbol": company.currency_id.symbol, "position": company.currency_id.position,
                         "digits": company.currency_id.decimal_places},
            "period_days": days,
            "date": fields.Date.to_string(day),
            "tiles": tiles,
            "aging": self._aging(company),
            "customers": self._top_customers(company, today),
            "collectors": self._collectors(company, today),
        }

    @api.model
    def _aging(self, company):
        Aging = self.env["collections.aging.report"].sudo()
        groups = dict(Aging._read_group([("company_id", "=", company.id)], ["bucket"], ["amount_residual:sum"]))
        selection = dict(Aging._fields["bucket"]._description_selection(self.env))
        return [{"bucket": key, "label": selection[key], "amount": groups.get(key, 0.0)} for key in selection]

    @api.model
    def _top_customers(self, company, today):
        Partner = self.env["res.partner"].sudo().with_company(company)
        items = self.env["collections.ledger"]._open_items(company, pauses=False)
        overdue = []
        for partner_id, partner_items in items.items():
            # The customer's one overdue figure (net of its credits), as its form and the worklist show it.
            amount, _late, _credits = net_overdue(partner_items, today)
            if amount > 0:
                late = [item for item in partner_items if item.due_date < today and item.residual > 0
                        and not item.excluded]
                overdue.append((amount, partner_id, max((today - item.due_date).days for item in late)))
        overdue.sort(reverse=True)
        top = overdue[:TOP_CUSTOMERS]
        partners = Partner.browse([partner_id for _amount, partner_id, _days in top])
        collectors = partners._collections_collectors(company)
        users = self.env["res.users"].sudo().browse({c.user_id for c in collectors.values() if c.user_id})
        names = {user.id: user.name for user in users}
        return [{
            "id": partner.id, "name": partner.display_name, "overdue": float(amount), "days": days,
            "collector": names.get(collectors[partner.id].user_id, "") if partner.id in collectors else "",
        } for (amount, _pid, days), partner in zip(top, partners, strict=True)]

    @api.model
    def _collectors(self, company, today):
        """Per collector: customers late, overdue, manual actions and, over the
        last 30 days, what customers paid within 14 days after being contacted."""
        Aging = self.env["collections.aging.report"].sudo()
        rows = Aging._read_group(
            [("company_id", "=", company.id), ("days_late", ">", 0)],
            ["collector_id"], ["amount_residual:sum", "partner_id:count_distinct"],
        )
        since = today - timedelta(days=PRODUCTIVITY_DAYS)
        Action = self.env["collections.action"].sudo()
        actions = dict(Action._read_group(
            [("company_id", "=", company.id), ("origin", "=", "manual"),
             ("action_date", ">", since), ("state", "=", "done")],
            ["user_id"], ["__count"],
        ))
        paid = self._paid_after_contact(company, since, today)
        result = [{
            "id": user.id or False,
            "name": user.name or self.env._("No collector"),
            "overdue": amount,
            "customers": customers,
            "actions": actions.get(user, 0) if user else 0,
            "paid_after_contact": float(paid.get(user.id or False, 0)),
        } for user, amount, customers in rows]
        return sorted(result, key=lambda row: -row["overdue"])

    @api.model
    def _paid_after_contact(self, company, since, today):
        """{collector id: amount} paid within 14 days after a reminder, letter or call."""
        contacts = self.env["collections.action"].sudo()._read_group(
            [("company_id", "=", company.id), ("state", "=", "done"), ("action_date", ">", since),
             ("channel", "in", ("email", "letter", "call"))],
            ["partner_id", "action_date:day"],
        )
        by_partner = defaultdict(list)
        for partner, day in contacts:
            by_partner[partner].append(fields.Date.to_date(day))
        if not by_partner:
            return {}
        partners = self.env["res.partner"].browse([p.id for p in by_partner]).sudo().with_company(company)
        payments = defaultdict(list)
        for payment in self.env["account.payment"].sudo().search([
            ("company_id", "=", company.id), ("payment_type", "=", "inbound"), ("partner_type", "=", "customer"),
            ("state", "in", ("in_process", "paid")), ("date", ">", since),
            ("partner_id", "child_of", partners.ids),
        ]):
            payments[payment.partner_id.commercial_partner_id].append(
                (payment.date, payment.amount_company_currency_signed))
        result = defaultdict(float)
        collectors = partners._collections_collectors(company)
        for partner in partners:
            amount = paid_after_contact(by_partner[partner], payments.get(partner, []), PAID_WINDOW_DAYS)
            found = collectors.get(partner.id)
            result[(found.user_id if found else None) or False] += float(amount)
        return result

    @api.model
    def _cron_weekly_digest(self):
        """Monday morning: the dashboard's numbers to each company's Collections Managers,
        once a week per company however often the job runs (collections.job.period)."""
        today = fields.Date.context_today(self)
        week = today - timedelta(days=today.weekday())
        group = self.env.ref("collections_followup.group_collections_manager")
        for company in self.env["collections.policy"]._followed_companies():
            managers = self.env["res.users"].sudo().search([
                ("all_group_ids", "in", group.id), ("company_ids", "in", company.id), ("share", "=", False),
                ("email", "!=", False), ("id", "!=", self.env.ref("base.user_root").id),
            ])
            if not managers or not self.env["collections.job.period"]._claim("weekly_digest", company, week):
                continue
            data = self._data(company, today)
            body = self.env["ir.qweb"]._render("collections_followup.mail_weekly_digest", {
                "data": data, "company": company,
            })
            self.env["mail.mail"].sudo().create({
                "subject": self.env._("%(company)s: collections this week (DSO %(dso)s days)",
                                      company=company.name, dso=data["tiles"][0]["value"]),
                "body_html": body,
                "email_from": company.email_formatted or self.env.user.email_formatted,
                "recipient_ids": [(6, 0, managers.partner_id.ids)],
                "auto_delete": True,
            })
