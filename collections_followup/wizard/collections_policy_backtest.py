import time
from collections import defaultdict
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, formatLang

from ..engine import Ladder
from ..engine.backtest import LevelRules, PastItem, replay


class CollectionsPolicyBacktest(models.TransientModel):
    """Try a policy on the past: the daily runs of the last months replayed on the ledger's history
    with two policies, side by side (engine/backtest.py says what is and is not replayed)."""

    _name = "collections.policy.backtest"
    _description = "Follow-up Policy Tried on the Past"

    # The company is the user's current one (Odoo checks it is one of theirs): no field a request could set.
    policy_id = fields.Many2one(
        "collections.policy", string="Current Policy", required=True,
        domain="[('company_id', '=', current_company_id)]",
        default=lambda self: self.env["collections.policy"]._get_default_policy(self.env.company),
    )
    draft_policy_id = fields.Many2one(
        "collections.policy", string="Policy to Try", required=True,
        domain="[('company_id', '=', current_company_id), ('active', 'in', (True, False))]",
        help="Any policy of the company, archived ones included: duplicate the current policy, archive the "
             "copy, change its levels and try it here before using it.",
    )
    months = fields.Integer(default=12, required=True)
    paid_within = fields.Integer(
        string="Needless When Paid Within (days)", default=7, required=True,
        help="A reminder counts as needless when every invoice it lists was paid within these days anyway.",
    )
    line_ids = fields.One2many("collections.policy.backtest.line", "backtest_id", readonly=True)
    summary = fields.Char(readonly=True)
    state = fields.Selection(
        [("draft", "Draft"), ("queued", "Running in the Background"), ("done", "Done"), ("failed", "Failed")],
        default="draft", readonly=True,
    )
    company_id = fields.Many2one("res.company", readonly=True, help="Set by Compare: the user's current company.")
    error = fields.Text(readonly=True)

    # Receivable items of the period above which the comparison runs in the background.
    _inline_items = 20_000

    @api.depends("draft_policy_id")
    def _compute_display_name(self):
        for backtest in self:
            backtest.display_name = self.env._("%s tried on the past", backtest.draft_policy_id.name) \
                if backtest.draft_policy_id else self.env._("Try a Policy on the Past")

    @api.constrains("months", "paid_within")
    def _check_bounds(self):
        for backtest in self:
            if not 1 <= backtest.months <= 24:
                raise UserError(self.env._("Replay between 1 and 24 months of the ledger."))
            if not 0 <= backtest.paid_within <= 90:
                raise UserError(self.env._(
                    "The days within which a payment makes a reminder needless go from 0 to 90."))

    def action_compare(self):
        """Compare at once on a small ledger; on a large one (a 12-month replay of 200,000 invoices takes
        over a minute per policy: make bench) in the background, the user notified when it is done."""
        self.ensure_one()
        company = self.env.company
        self._check_policies(company)
        start, end = self._period()
        # Written here, from the user's current company (which Odoo checks is theirs), never taken
        # from the request; the background job checks it again against the user's companies.
        self.write({"company_id": company.id, "line_ids": [(5, 0, 0)], "error": False})
        if self._history_size(company, start, end) > self._inline_items:
            self.write({"state": "queued", "summary": self.env._(
                "Running in the background: you will be notified when the comparison is ready.")})
            self.env.ref("collections_followup.ir_cron_collections_backtest")._trigger()
        else:
            self._compare(company)
        return {
            "type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
            "view_mode": "form", "target": "current", "name": self.env._("Policy Tried on the Past"),
        }

    def _check_policies(self, company):
        # sudo: policies are configuration; the user chose them within their company (checked here).
        policies = (self.policy_id | self.draft_policy_id).sudo().with_context(active_test=False)
        if policies.company_id != company:
            raise AccessError(self.env._("Both policies must belong to %s.", company.name))

    def _period(self):
        today = fields.Date.context_today(self)
        return today - relativedelta(months=self.months), today - relativedelta(days=1)

    def _compare(self, company):
        start, end = self._period()
        history = self._history(company, start, end)
        results = {}
        for policy in (self.policy_id, self.draft_policy_id):
            levels = policy.sudo().with_context(active_test=False).level_ids
            began = time.monotonic()
            results[policy.id] = (replay(
                Ladder(levels._to_engine()), self._rules(levels), history, start, end,
                paid_within=self.paid_within, digits=company.currency_id.decimal_places,
            ), time.monotonic() - began, levels.sorted("delay"))
        self.write({
            "state": "done",
            "line_ids": [(5, 0, 0)] + [(0, 0, vals) for vals in self._lines(results, company)],
            "summary": self.env._(
                "%(start)s to %(end)s: %(items)s receivable items of %(customers)s customers replayed day by day.",
                start=fields.Date.to_string(start), end=fields.Date.to_string(end), items=len(history),
                customers=len({item.partner_id for item in history}),
            ),
        })

    @api.model
    def _cron_compare_queued(self):
        """The comparisons queued by action_compare, each as the manager who asked, committed one by one."""
        # sudo: the scheduled job finds every queued comparison; each then runs as its own user.
        for backtest in self.sudo().search([("state", "=", "queued")], order="id"):
            user, company = backtest.create_uid, backtest.company_id
            mine = backtest.with_user(user).with_company(company)
            try:
                with self.env.cr.savepoint():
                    if company not in user.company_ids:
                        raise AccessError(self.env._("%(user)s does not work in %(company)s.", user=user.name,
                                                     company=company.name))
                    mine._check_policies(company)
                    mine._compare(company)
                message = self.env._("The comparison of %(draft)s with %(current)s is ready.",
                                     draft=backtest.draft_policy_id.name, current=backtest.policy_id.name)
            except (AccessError, UserError) as error:
                backtest.write({"state": "failed", "error": str(error)})
                message = self.env._("The comparison could not be made: %s", error)
            user._bus_send("simple_notification", {
                "type": "success" if backtest.state == "done" else "danger",
                "title": self.env._("Try a Policy on the Past"), "message": message, "sticky": True,
            })
            if self.env.context.get("cron_id"):
                self.env["ir.cron"]._commit_progress(1)  # each comparison committed on its own

    @api.model
    def _rules(self, levels):
        return {
            level.id: LevelRules(
                channels=level._channels(),
                credit_hold=level.credit_hold,
                fee_type=level.fee_type or "none",
                fee_fixed=Decimal(str(level.fee_fixed or 0)),
                fee_percent=Decimal(str(level.fee_percent or 0)),
                fee_cap=Decimal(str(level.fee_cap)) if level.fee_cap else None,
            ) for level in levels
        }

    @api.model
    def _history_size(self, company, start, end):
        """About as many receivable items as _history reads (those of the period and before it, open or
        settled within a year): one count, to choose between comparing at once and in the background."""
        self.env["account.move.line"].flush_model(["company_id", "account_id", "parent_state", "date"])
        return self.env.execute_query(SQL(
            """
            SELECT COUNT(*) FROM account_move_line line
              JOIN account_account account ON account.id = line.account_id
             WHERE line.company_id IN %s AND account.account_type = 'asset_receivable'
               AND line.parent_state = 'posted' AND line.date <= %s
               AND (line.reconciled IS NOT TRUE OR line.date >= %s - INTERVAL '1 year')
            """, self.env["collections.ledger"]._company_sql(company), end, start,
        ))[0][0]

    @api.model
    def _history(self, company, start, end):
        """PastItems of the company's receivable items open at some moment of [start, end]: their amount
        and each part of them settled (Odoo's partial reconciliations, company currency, dated when both
        sides exist), two queries."""
        Line = self.env["account.move.line"]
        Line.flush_model(["balance", "date", "date_maturity", "partner_id", "account_id", "parent_state",
                          "no_followup", "company_id", "move_id"])
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "credit_move_id", "amount", "max_date"])
        rows = self.env.execute_query(SQL(
            """
            SELECT line.id, line.move_id, partner.commercial_partner_id, line.date,
                   COALESCE(line.date_maturity, line.date), line.balance::text, COALESCE(line.no_followup, FALSE)
              FROM account_move_line line
              JOIN account_account account ON account.id = line.account_id
              JOIN res_partner partner ON partner.id = line.partner_id
             WHERE line.company_id IN %(company)s AND account.account_type = 'asset_receivable'
               AND line.parent_state = 'posted' AND line.date <= %(end)s AND line.balance != 0
               AND (line.reconciled IS NOT TRUE OR EXISTS (
                    SELECT 1 FROM account_partial_reconcile partial
                     WHERE (partial.debit_move_id = line.id OR partial.credit_move_id = line.id)
                       AND partial.max_date >= %(start)s))
            """,
            company=self.env["collections.ledger"]._company_sql(company), start=start, end=end,
        ))
        ids = [row[0] for row in rows]
        payments = defaultdict(list)
        for line_id, side, amount, when in self.env.execute_query(SQL(
            """
            SELECT debit_move_id, 1, amount::text, max_date FROM account_partial_reconcile
             WHERE debit_move_id = ANY(%(ids)s)
             UNION ALL
            SELECT credit_move_id, -1, amount::text, max_date FROM account_partial_reconcile
             WHERE credit_move_id = ANY(%(ids)s)
            """, ids=ids,
        )):
            payments[line_id].append((when, Decimal(amount) * side))
        return [
            PastItem(partner_id, move_id, line_id, issued, due, Decimal(balance), tuple(sorted(payments[line_id])),
                     excluded)
            for line_id, move_id, partner_id, issued, due, balance, excluded in rows
        ]

    @api.model
    def _lines(self, results, company):
        """The comparison, one line per figure: the current policy's value, the tried one's, the difference."""
        (current, current_time, current_levels), (draft, draft_time, draft_levels) = results.values()
        money = company.currency_id

        def count_line(label, a, b, kind="count"):
            return {"label": label, "current": a, "draft": b, "difference": b - a, "kind": kind}

        lines = [
            count_line(self.env._("Reminders"), sum(current.reminders.values()), sum(draft.reminders.values())),
            count_line(self.env._("Customers reminded"), current.customers, draft.customers),
        ]
        for channel, label in (("email", self.env._("Emails")), ("sms", self.env._("SMS")),
                               ("letter", self.env._("Letters")), ("call", self.env._("Call tasks"))):
            lines.append(count_line(
                label, sum(n for (_level, c), n in current.channels.items() if c == channel),
                sum(n for (_level, c), n in draft.channels.items() if c == channel),
            ))
        for index in range(max(len(current_levels), len(draft_levels))):
            a = current_levels[index] if index < len(current_levels) else None
            b = draft_levels[index] if index < len(draft_levels) else None
            lines.append({
                "label": self.env._("Level %(number)s: %(current)s / %(draft)s", number=index + 1,
                                    current=a.name if a else "-", draft=b.name if b else "-"),
                "current": current.reminders.get(a.id, 0) if a else 0,
                "draft": draft.reminders.get(b.id, 0) if b else 0,
                "difference": (draft.reminders.get(b.id, 0) if b else 0) - (current.reminders.get(a.id, 0) if a else 0),
                "kind": "count",
            })
        lines += [
            count_line(self.env._("Customers put on credit hold"), current.holds, draft.holds),
            count_line(self.env._("Needless reminders (paid within the days anyway)"),
                       current.needless, draft.needless),
            {"label": self.env._("Fixed and percentage fees charged (%s)", money.name),
             "current": float(current.fees), "draft": float(draft.fees), "difference": float(draft.fees - current.fees),
             "kind": "amount"},
            count_line(self.env._("Days decided (the replay's work)"), current.decisions, draft.decisions),
            {"label": self.env._("Seconds taken"), "current": round(current_time, 1), "draft": round(draft_time, 1),
             "difference": round(draft_time - current_time, 1), "kind": "time"},
        ]
        for sequence, line in enumerate(lines):
            line["sequence"] = sequence
        return lines


class CollectionsPolicyBacktestLine(models.TransientModel):
    _name = "collections.policy.backtest.line"
    _description = "Follow-up Policy Tried on the Past: a Figure"
    _order = "sequence, id"

    backtest_id = fields.Many2one("collections.policy.backtest", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer()
    label = fields.Char(string="Figure", readonly=True)
    current = fields.Float(string="Current Policy", readonly=True, digits=(16, 2))
    draft = fields.Float(string="Policy Tried", readonly=True, digits=(16, 2))
    difference = fields.Float(readonly=True, digits=(16, 2))
    kind = fields.Selection([("count", "Count"), ("amount", "Amount"), ("time", "Seconds")], readonly=True)
    current_display = fields.Char(string="Current Policy (Text)", compute="_compute_display_values")
    draft_display = fields.Char(string="Policy Tried (Text)", compute="_compute_display_values")
    difference_display = fields.Char(string="Difference (Text)", compute="_compute_display_values")

    @api.depends("kind", "current", "draft", "difference")
    @api.depends_context("lang", "company")
    def _compute_display_values(self):
        """Counts as whole numbers, amounts in the company's currency, times in seconds."""
        currency = self.env.company.currency_id
        for line in self:
            for name in ("current", "draft", "difference"):
                value = line[name]
                if line.kind == "amount":
                    text = formatLang(self.env, value, currency_obj=currency)
                elif line.kind == "time":
                    text = self.env._("%s s", formatLang(self.env, value, digits=1))
                else:
                    text = formatLang(self.env, value, digits=0)
                if name == "difference" and value > 0:
                    text = "+" + text
                line[f"{name}_display"] = text
