"""Credits that cover the overdue: not dunned; an accountant is asked to apply them, in one click.

A customer whose unapplied credits (credit notes, payments, statement lines, money on account) cover everything it
has overdue gets no reminder (engine: ``covered_by_credits``). Left so, its account stays open on both sides: the
daily run's review (with the holds) gives an accountant a task with the proposed matching, which credit against
which invoice, oldest first as Odoo's reconciliation applies them, and logs why nothing is sent. *Apply Credits*
on the customer (billing users and accountants) reconciles them so.
"""
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_amount

from .collections_ledger import CHASED_DEBT, UNAPPLIED_CREDIT

TASK_KEY = "[credits %s]"


class ResPartner(models.Model):
    _inherit = "res.partner"

    @api.model
    def _collections_covered_by_credits(self, company, today):
        """{customer id: its total due} of the customers of ``company`` whose unapplied credits cover all they have
        overdue (one query). The total due is every open receivable item of the company's hierarchy, as Odoo's
        balance counts them."""
        Ledger = self.env["collections.ledger"]
        late = SQL("(%s AND COALESCE(line.date_maturity, line.date) < %s)", CHASED_DEBT, today)
        rows = self.env.execute_query(SQL(
            """
            SELECT partner.commercial_partner_id, SUM(line.amount_residual)
              FROM account_move_line line
              JOIN res_partner partner ON partner.id = line.partner_id
             WHERE %(open_line)s
          GROUP BY partner.commercial_partner_id
            HAVING COALESCE(SUM(line.amount_residual) FILTER (WHERE %(late)s), 0) > 0
               AND COALESCE(SUM(line.amount_residual) FILTER (WHERE %(late)s), 0)
                   + COALESCE(SUM(line.amount_residual) FILTER (WHERE %(credit)s), 0) <= 0
            """,
            open_line=Ledger._open_line_filter(company), late=late, credit=UNAPPLIED_CREDIT,
        ))
        return dict(rows)

    def _collections_credit_matches(self, company, today):
        """[(credit journal item, debt journal item, amount)]: the customer's unapplied credits against its overdue
        debts followed up, each credit oldest first against the oldest due debt of the same account, as far as it
        goes (company currency)."""
        self.ensure_one()
        items = self.env["collections.ledger"]._journal_items(self, company)
        exchange_only = items._collections_exchange_only()
        items = items.filtered(lambda item: item.id not in exchange_only)
        debts = [[item, item.amount_residual] for item in items.sorted(lambda i: (i.date_maturity or i.date, i.id))
                 if item.amount_residual > 0 and not item.no_followup and (item.date_maturity or item.date) < today]
        matches = []
        for credit in items.filtered(lambda item: item.amount_residual < 0).sorted(lambda i: (i.date, i.id)):
            left = -credit.amount_residual
            for debt in debts:
                if left <= 0:
                    break
                if debt[1] <= 0 or debt[0].account_id != credit.account_id:
                    continue
                amount = min(left, debt[1])
                matches.append((credit, debt[0], amount))
                debt[1] -= amount
                left -= amount
        return matches

    @api.model
    def _collections_ask_to_apply_credits(self, company, today):
        """The daily review: a task for an accountant (once while one is open) and a log entry for each customer
        whose credits cover its overdue."""
        Ledger = self.env["collections.ledger"]
        accountant = Ledger._accountant(company)
        asked = 0
        covered = self._collections_covered_by_credits(company, today)
        open_tasks = Ledger._task_summaries(list(covered))  # one read of the open tasks
        # sudo: the scheduled run writes the accountants' tasks and the log for every customer.
        for partner in self.sudo().with_company(company).browse(list(covered)):
            key = TASK_KEY % partner.id
            if key in open_tasks.get(partner.id, ""):
                continue
            matches = partner._collections_credit_matches(company, today)
            if not matches:
                continue
            currency = company.currency_id
            rows = Markup("").join(Markup("<li>%s</li>") % self.env._(
                "%(credit)s against %(invoice)s: %(amount)s", credit=credit.move_id.name, invoice=debt.move_id.name,
                amount=format_amount(self.env, amount, currency)) for credit, debt, amount in matches)
            note = Markup("<p>%s</p><ul>%s</ul><p>%s</p>") % (
                self.env._("The unapplied credits of %s cover everything it has overdue: no reminder is sent. "
                           "Apply them:", partner.display_name),
                rows, self.env._("Apply Credits on the customer's Collections tab reconciles them so."),
            )
            partner.activity_schedule(
                "mail.mail_activity_data_todo", user_id=(accountant or partner._collections_collector(company)).id,
                summary=self.env._("Apply the credits of the customer %(key)s", key=key), note=note,
            )
            self.env["collections.action"]._collections_log({
                "partner_id": partner.id, "company_id": company.id, "channel": "review", "origin": "scheduler",
                "move_ids": [(6, 0, list({debt.move_id.id for _credit, debt, _amount in matches}))],
                # What every screen says of it: what it owes in all (Odoo's balance), nothing overdue net of credits.
                "amount_due": float(covered[partner.id]), "amount_overdue": 0.0,
                "note": self.env._("Not reminded: its unapplied credits cover everything overdue. An accountant is "
                                   "asked to apply them (%s matches proposed).", len(matches)),
            })
            asked += 1
        return asked

    def action_collections_apply_credits(self):
        """Reconcile the customer's unapplied credits with its overdue invoices, as proposed (billing, accountants)."""
        if not (self.env.user.has_group("account.group_account_invoice")
                or self.env.user.has_group("account.group_account_manager")):
            raise AccessError(self.env._("Only billing users and accountants apply a customer's credits."))
        company = self.env.company
        today = fields.Date.context_today(self)
        self.env["account.move.line"].check_access("write")  # reconciling is the user's own accounting right
        applied = 0
        for partner in self.commercial_partner_id:
            partner.check_access("read")
            matches = partner._collections_credit_matches(company, today)
            if not matches:
                raise UserError(self.env._("%s has no unapplied credit to apply to an overdue invoice.",
                                           partner.display_name))
            for credit, debt, _amount in matches:
                (credit | debt).filtered(lambda item: not item.reconciled).reconcile()
                applied += 1
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"type": "success", "sticky": False, "title": self.env._("Credits applied"),
                       "message": self.env._("%s credits reconciled with overdue invoices.", applied)},
        }
