"""A payment plan's life after it is signed: the daily check (payments allocated to the instalments, the plan
completed, broken or its next instalment reminded) and its instalments."""
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..engine.plans import PLAN_BROKEN, PLAN_COMPLETED, allocate, plan_status, reminders_due
from .collections_guard import is_server, scheduler, server


class CollectionsPaymentPlan(models.Model):
    _inherit = "collections.payment.plan"

    @api.model
    def _cron_check_plans(self):
        today = fields.Date.context_today(self)
        # The scheduler acts for every company: all active plans, whoever reads them.
        plans = self.sudo().search([("state", "=", "active")])
        for plan in scheduler(plans):
            plan._check_progress(today)
            if self.env.context.get("cron_id"):
                self.env["ir.cron"]._commit_progress(1)

    def _check_progress(self, today):
        """Allocate payments, then complete, break or remind; idempotent."""
        self.ensure_one()
        # Paid amounts and instalment states depend on today: read them afresh.
        self.invalidate_recordset(["amount_paid", "amount_open", "next_due_date", "amount_late"])
        self.line_ids.invalidate_recordset(["paid", "remaining", "state"])
        states = allocate(self._engine_instalments(), Decimal(str(self.amount_paid)), today, self.grace_days)
        status = plan_status(states, today, self.grace_days)
        if status == PLAN_COMPLETED:
            server(self).write({"state": "completed", "end_reason": self.env._("Paid in full"), "closed_date": today})
            self._log(self.env._("Payment plan %s completed", self.name), "plan")
            self.message_post(body=self.env._("All instalments are paid: the plan is completed."))
            return status
        if status == PLAN_BROKEN:
            self._break(next(s for s in states if s.state == "late"))
            return status
        policy = self.partner_id.commercial_partner_id.with_company(self.company_id)._collections_policy(
            self.company_id)
        days_before = policy.plan_reminder_days if policy else 3
        if days_before:
            due = set(reminders_due(states, today, days_before))
            lines = self.line_ids.filtered(lambda line: line.sequence in due and not line.reminder_date)
            for line in lines:
                self.with_context(collections_instalment_id=line.id)._send_template(
                    "collections_followup.mail_template_plan_reminder")
                server(line).reminder_date = today
                self._log(self.env._("Reminder of instalment %(seq)s (%(date)s) of plan %(plan)s",
                                     seq=line.sequence, date=line.due_date, plan=self.name), "plan")
        return status

    def _break(self, late):
        """``late``: the engine's state of the first late instalment."""
        reason = self.env._("Instalment %(seq)s due on %(date)s unpaid after %(days)s grace days",
                            seq=late.sequence, date=late.due_date, days=self.grace_days)
        server(self).write({"state": "broken", "end_reason": reason, "closed_date": fields.Date.context_today(self)})
        self._resume_followup()
        self._log(self.env._("Payment plan %(plan)s broken: %(reason)s", plan=self.name, reason=reason), "plan")
        self._send_template("collections_followup.mail_template_plan_broken")
        self._notify_collector(self.env._("Payment plan %s broken", self.name), reason)

    def _resume_followup(self):
        """Put the covered invoices just below the policy's level for broken
        plans, so that it is the next reminder they get."""
        partner = self.partner_id.commercial_partner_id.with_company(self.company_id)
        policy = partner._collections_policy(self.company_id)
        target = policy.broken_plan_level_id
        previous = policy.level_ids.filtered(lambda level: target and level.delay < target.delay)
        previous = previous.sorted("delay")[-1:] if previous else previous
        Ledger = self.env["collections.ledger"]
        lines = Ledger._open_lines_of(self.move_ids).filtered(lambda line: line.amount_residual > 0)
        Ledger._set_levels(dict.fromkeys(lines.ids, (previous.id, None)))


class CollectionsPaymentPlanLine(models.Model):
    _name = "collections.payment.plan.line"
    _description = "Payment Plan Instalment"
    _order = "plan_id, due_date, sequence"

    plan_id = fields.Many2one("collections.payment.plan", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="plan_id.company_id", store=True)
    currency_id = fields.Many2one(related="plan_id.currency_id")
    sequence = fields.Integer(string="#", default=1)
    due_date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
    interest = fields.Monetary()
    paid = fields.Monetary(compute="_compute_allocation")
    remaining = fields.Monetary(compute="_compute_allocation")
    state = fields.Selection(
        [("open", "To Pay"), ("partial", "Partly Paid"), ("paid", "Paid"), ("late", "Late")],
        compute="_compute_allocation",
    )
    reminder_date = fields.Date(string="Reminded On", readonly=True, copy=False)

    # The schedule is the plan's terms: changed only while the plan is a draft (the customer accepts a schedule),
    # afterwards by the plan's own steps only.
    @api.model_create_multi
    def create(self, vals_list):
        plans = self.env["collections.payment.plan"].browse({vals.get("plan_id") for vals in vals_list} - {None})
        plans._check_terms_open()
        return super().create(vals_list)

    def write(self, vals):
        (self.plan_id | self.env["collections.payment.plan"].browse(vals.get("plan_id") or ()))._check_terms_open()
        if "reminder_date" in vals and not is_server(self.env):
            raise AccessError(self.env._("The instalment reminder date is set by the plan's daily check."))
        return super().write(vals)

    def unlink(self):
        self.plan_id._check_terms_open()
        return super().unlink()

    @api.depends("plan_id.amount_paid", "amount", "due_date")
    def _compute_allocation(self):
        today = fields.Date.context_today(self)
        for plan in self.plan_id:
            lines = self.filtered(lambda line, plan=plan: line.plan_id == plan)
            counted = plan.state in ("active", "completed", "broken")
            paid = Decimal(str(plan.amount_paid)) if counted else Decimal(0)
            states = {s.sequence: s for s in allocate(plan._engine_instalments(), paid, today, plan.grace_days)}
            for line in lines:
                state = states.get(line.sequence)
                line.paid = float(state.paid) if state else 0.0
                line.remaining = float(state.remaining) if state else line.amount
                line.state = state.state if state else "open"
        for line in self.filtered(lambda line: not line.plan_id):
            line.paid, line.remaining, line.state = 0.0, line.amount, "open"
