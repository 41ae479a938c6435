from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_round

from ..engine.plans import (
    FREQUENCIES,
    Instalment,
    PlanError,
    plan_schedule,
    validate_schedule,
)
from .collections_guard import is_server, server

PLAN_STATES = [
    ("draft", "Draft"),
    ("proposed", "Proposed"),
    ("active", "Active"),
    ("completed", "Completed"),
    ("broken", "Broken"),
    ("cancelled", "Cancelled"),
]
FREQUENCY_LABELS = [("weekly", "Weekly"), ("biweekly", "Every Two Weeks"), ("monthly", "Monthly")]
assert {key for key, _label in FREQUENCY_LABELS} == set(FREQUENCIES)


class CollectionsPaymentPlan(models.Model):
    _name = "collections.payment.plan"
    _description = "Payment Plan"
    _inherit = ["collections.arrangement.mixin", "mail.thread", "mail.activity.mixin", "portal.mixin"]
    _order = "id desc"
    _check_company_auto = True
    _sequence_code = "collections.payment.plan"

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    # Set only by the plan's own steps (propose, the customer's acceptance, the daily check): server code.
    state = fields.Selection(PLAN_STATES, default="draft", required=True, readonly=True, tracking=True, copy=False)
    move_ids = fields.Many2many(
        "account.move", "collections_payment_plan_account_move_rel", "plan_id", "move_id",
        string="Covered Invoices", check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'), "
               "('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    amount_covered = fields.Monetary(
        compute="_compute_amount_covered", store=True, readonly=False,
        help="Open amount of the covered invoices the plan spreads.",
    )
    schedule_mode = fields.Selection(
        [("regular", "Regular Instalments"), ("custom", "Typed By Hand")], default="regular", required=True,
    )
    down_payment = fields.Monetary()
    down_payment_date = fields.Date()
    instalment_count = fields.Integer(string="Instalments", default=3)
    frequency = fields.Selection(FREQUENCY_LABELS, default="monthly", required=True)
    first_date = fields.Date(string="First Instalment", default=fields.Date.context_today)
    fee_amount = fields.Monetary(string="Set-up Fee", help="Charged once, spread over the instalments.")
    interest_rate = fields.Float(
        string="Interest (% per year)", digits=(16, 2),
        help="Simple interest on the amount still owed between two due dates (actual/365).",
    )
    grace_days = fields.Integer(
        default=lambda self: self.env["collections.policy"]._get_default_policy(self.env.company).plan_grace_days
        or 5,
        help="Days an instalment may stay unpaid after its due date before the plan is broken.",
    )
    line_ids = fields.One2many("collections.payment.plan.line", "plan_id", string="Schedule", copy=True)
    amount_total = fields.Monetary(string="Plan Total", compute="_compute_amount_total", store=True)
    amount_interest = fields.Monetary(string="Interest", compute="_compute_amount_total", store=True)
    next_due_date = fields.Date(compute="_compute_progress")
    amount_late = fields.Monetary(compute="_compute_progress")
    fee_move_id = fields.Many2one("account.move", string="Fee Invoice", readonly=True, copy=False)

    # Acceptance: on the portal (name, drawn signature, date, IP) or on paper.
    accepted_by = fields.Char(readonly=True, copy=False)
    accepted_date = fields.Datetime(readonly=True, copy=False)
    accepted_ip = fields.Char(string="Accepted From", readonly=True, copy=False)
    accepted_channel = fields.Selection(
        [("portal", "Customer Portal"), ("paper", "Signed on Paper")], readonly=True, copy=False,
    )
    signature = fields.Image(readonly=True, copy=False, attachment=True, max_width=1024, max_height=1024)
    signed_document = fields.Binary(string="Signed Agreement", copy=False, attachment=True)
    signed_document_name = fields.Char(copy=False)
    end_reason = fields.Char(readonly=True, copy=False, tracking=True)
    closed_date = fields.Date(readonly=True, copy=False, help="Day the plan was completed, broken or cancelled.")
    # Read by the mail templates (which may not call private methods).
    schedule_html = fields.Html(compute="_compute_schedule_html", sanitize=False)
    reminder_line_id = fields.Many2one(
        "collections.payment.plan.line", compute="_compute_reminder_line_id",
        help="Instalment an instalment reminder is about.",
    )

    _check_counts = models.Constraint(
        "CHECK (instalment_count >= 1 AND grace_days >= 0 AND down_payment >= 0 AND fee_amount >= 0 "
        "AND interest_rate >= 0)",
        "A plan needs at least one instalment; amounts, rate and grace days cannot be negative.",
    )

    # The terms the customer accepts: changed only while the plan is a draft.
    TERMS = frozenset({
        "move_ids", "amount_covered", "down_payment", "down_payment_date", "instalment_count", "frequency",
        "first_date", "fee_amount", "interest_rate", "line_ids", "partner_id", "company_id", "schedule_mode",
        "grace_days", "amount_total", "amount_interest",
    })

    def _check_terms_open(self):
        if not is_server(self.env) and any(plan.state != "draft" for plan in self):
            raise UserError(self.env._(
                "Only a draft plan can be changed. Cancel this plan and propose a new one instead."
            ))

    def write(self, vals):
        if self.TERMS & set(vals):
            self._check_terms_open()
        # The agreement signed on paper is attached before it is recorded, never replaced afterwards.
        if {"signed_document", "signed_document_name"} & set(vals) and not is_server(self.env) and any(
                plan.state not in ("draft", "proposed") for plan in self):
            raise UserError(self.env._("The signed agreement of a plan in force cannot be replaced."))
        result = super().write(vals)
        if "move_ids" in vals or "partner_id" in vals:
            self._check_moves_belong()
        return result

    # Whoever holds the plan's token accepts it "as the customer" on its page: employees may not read it (the
    # customer's email carries it; the chatter copy does not, collections.send._keep_links_out_of_chatter).
    access_token = fields.Char(groups="base.group_system")

    def _portal_ensure_token(self):
        # sudo: the token is made and read for the plan's own link (the customer's email, its portal page).
        return super(CollectionsPaymentPlan, self.sudo())._portal_ensure_token()

    def _compute_access_url(self):
        for plan in self:
            plan.access_url = f"/my/collections/plan/{plan.id}"

    def _get_report_base_filename(self):
        return self.env._("Payment plan %s", self.name)

    @api.depends("move_ids")
    def _compute_amount_covered(self):
        for plan in self:
            plan.amount_covered = sum(plan.move_ids.mapped("amount_residual_signed"))

    @api.depends("line_ids.amount", "line_ids.interest")
    def _compute_amount_total(self):
        for plan in self:
            plan.amount_total = sum(plan.line_ids.mapped("amount"))
            plan.amount_interest = sum(plan.line_ids.mapped("interest"))

    @api.depends("line_ids.remaining", "line_ids.state")
    def _compute_progress(self):
        for plan in self:
            unpaid = plan.line_ids.filtered(lambda line: line.remaining > 0)
            plan.next_due_date = min(unpaid.mapped("due_date"), default=False)
            plan.amount_late = sum(unpaid.filtered(lambda line: line.state == "late").mapped("remaining"))

    def _compute_schedule_html(self):
        for plan in self:
            plan.schedule_html = self.env["ir.qweb"]._render(
                "collections_followup.mail_plan_schedule", {"plan": plan},
            )

    @api.depends_context("collections_instalment_id")
    def _compute_reminder_line_id(self):
        wanted = self.env.context.get("collections_instalment_id")
        for plan in self:
            line = plan.line_ids.filtered(lambda line: line.id == wanted)
            plan.reminder_line_id = line or plan.line_ids.filtered(lambda line: line.remaining > 0)[:1]

    @api.model
    def _cron_check_arrangements(self):
        """Daily: plans, then promises, then settlements (before the follow-up run)."""
        self._cron_check_plans()
        self.env["collections.promise"]._cron_check_promises()
        self.env["collections.settlement"]._cron_check_settlements()

    # ------------------------------------------------------------------
    # Schedule
    # ------------------------------------------------------------------

    def _engine_error(self, error):
        _ = self.env._
        messages = {
            "count": _("A plan needs at least one instalment."),
            "total": _("The plan covers nothing: choose open invoices of the customer."),
            "down_payment": _("The down payment must be positive and less than the plan total."),
            "down_payment_date": _("Give the down payment a date, on or before the first instalment."),
            "rate": _("The interest rate cannot be negative."),
            "frequency": _("Choose how often the instalments fall due."),
            "amount": _("Each instalment needs an amount."),
            "order": _("Put the instalments in date order, one date per instalment."),
            "sum": _("The instalments add up to %(scheduled)s but the plan covers %(total)s.",
                     scheduled=error.values.get("scheduled"), total=error.values.get("total")),
        }
        return ValidationError(messages.get(error.code, str(error)))

    def _principal(self):
        return Decimal(str(self.amount_covered)) + Decimal(str(self.fee_amount or 0))

    def action_compute_schedule(self):
        for plan in self:
            if plan.state != "draft":
                raise UserError(self.env._("Only the schedule of a draft plan can be computed again."))
            if not plan.first_date:
                raise ValidationError(self.env._("Give the date of the first instalment."))
            # What the invoices owe now (payments may have come in since they were chosen).
            plan.amount_covered = plan._open_residual()
            try:
                instalments = plan_schedule(
                    plan._principal(), plan.first_date, plan.instalment_count, plan.frequency,
                    down_payment=Decimal(str(plan.down_payment or 0)),
                    down_payment_date=plan.down_payment_date,
                    annual_rate=Decimal(str(plan.interest_rate or 0)),
                    digits=plan.currency_id.decimal_places,
                )
            except PlanError as error:
                raise plan._engine_error(error) from None
            plan.line_ids = [(5, 0, 0)] + [(0, 0, {
                "sequence": inst.sequence,
                "due_date": inst.due_date,
                "amount": float(inst.amount),
                "interest": float(inst.interest),
            }) for inst in instalments]
        return True

    def _engine_instalments(self):
        return [
            Instalment(line.sequence, line.due_date, Decimal(str(line.amount)), Decimal(str(line.interest)))
            for line in self.line_ids
        ]

    def _check_schedule(self):
        for plan in self:
            if plan.currency_id.compare_amounts(plan.amount_covered, plan._open_residual()):
                raise ValidationError(self.env._(
                    "The invoices of the plan now owe %s (a payment or credit note came in): "
                    "compute the schedule again.", plan.currency_id.format(plan._open_residual()),
                ))
            if not plan.line_ids:
                raise ValidationError(self.env._("Compute or type the schedule before proposing the plan."))
            try:
                validate_schedule(plan._engine_instalments(), plan._principal(), plan.currency_id.decimal_places)
            except PlanError as error:
                raise plan._engine_error(error) from None

    # ------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------

    def action_propose(self):
        """Send the agreement to the customer for acceptance."""
        for plan in self:
            if plan.state != "draft":
                raise UserError(self.env._("Only a draft plan can be proposed."))
            plan._check_moves_belong()
            plan._check_schedule()
            plan._check_no_other_plan()
        server(self).state = "proposed"
        for plan in self:
            plan._portal_ensure_token()
            plan._send_template("collections_followup.mail_template_plan_proposal", attach_agreement=True)
            plan._log(self.env._("Payment plan %s proposed", plan.name), "plan")
        return True

    def _check_no_other_plan(self):
        for plan in self:
            other = self.search([
                ("id", "!=", plan.id), ("state", "in", ("proposed", "active")),
                ("move_ids", "in", plan.move_ids.ids),
            ], limit=1)
            if other:
                raise UserError(self.env._(
                    "Some of these invoices are already in plan %(plan)s (%(state)s). Cancel it first.",
                    plan=other.name, state=dict(PLAN_STATES)[other.state],
                ))

    def action_accept_paper(self):
        """The collector records the agreement the customer signed on paper."""
        for plan in self:
            if plan.state not in ("draft", "proposed"):
                raise UserError(self.env._("This plan is not waiting for the customer's acceptance."))
            if not plan.signed_document:
                raise UserError(self.env._(
                    "Attach the agreement signed by the customer (Signed Agreement) before marking it accepted."
                ))
            if plan.state == "draft":
                plan._check_moves_belong()
                plan._check_schedule()
                plan._check_no_other_plan()
        server(self).write({
            "accepted_channel": "paper",
            "accepted_by": self.env.user.name,
            "accepted_date": fields.Datetime.now(),
        })
        self._activate()
        return True

    def _accept_portal(self, name, signature, ip, signer):
        """The customer accepted on the portal (sudo record from the controller); ``signer``: the
        request's user (a portal user, or the public user of a link with the plan's token)."""
        self.ensure_one()
        if not signer.share:
            # An employee's session on the customer's page is not the customer's signature.
            raise UserError(self.env._(
                "You are signed in as an employee: only the customer accepts a plan here. Send it the plan, "
                "or record the agreement it signed on paper (Signed on Paper)."
            ))
        if self.state != "proposed":
            raise UserError(self.env._("This plan is not waiting for your acceptance."))
        if not (name or "").strip():
            raise UserError(self.env._("Type your name to accept the plan."))
        if not signature:
            raise UserError(self.env._("Sign in the box to accept the plan."))
        server(self).write({
            "accepted_channel": "portal",
            "accepted_by": name.strip(),
            "accepted_date": fields.Datetime.now(),
            "accepted_ip": ip,
            "signature": signature,
        })
        self._activate()

    @api.constrains("state", "accepted_channel", "accepted_by", "accepted_date")
    def _check_acceptance(self):
        # A plan in force (or past it) always rests on a recorded acceptance, whatever wrote its state.
        for plan in self:
            if plan.state in ("active", "completed", "broken") and not (
                    plan.accepted_channel and plan.accepted_by and plan.accepted_date):
                raise ValidationError(self.env._(
                    "Plan %s cannot be in force: the customer has not accepted it (portal signature or the "
                    "agreement signed on paper).", plan.name,
                ))

    def _activate(self):
        for plan in self:
            plan._create_fee_invoice()
            server(plan).write({"state": "active", "amount_basis": plan._open_residual()})
            plan._log(self.env._("Payment plan %(plan)s accepted by %(name)s (%(channel)s)",
                                 plan=plan.name, name=plan.accepted_by,
                                 channel=dict(plan._fields["accepted_channel"]._description_selection(self.env))
                                 [plan.accepted_channel]), "plan")
            plan.message_post(body=self.env._("Plan accepted by %s; follow-up of its invoices is paused.",
                                              plan.accepted_by))
            plan._send_template("collections_followup.mail_template_plan_confirmation", attach_agreement=True)

    def _create_fee_invoice(self):
        """Fee and interest become a customer invoice covered by the plan, so
        that what the customer pays and what the ledger says stay equal."""
        self.ensure_one()
        extra = self.amount_total - self.amount_covered
        if float_round(extra, precision_rounding=self.currency_id.rounding) <= 0 or self.fee_move_id:
            return
        # sudo: the fee invoice is the company's, created when the plan is accepted (also by a portal customer).
        invoice = server(self.env["account.move"].sudo().with_company(self.company_id)).create({
            "move_type": "out_invoice",
            "partner_id": self.partner_id.commercial_partner_id.id,
            "invoice_date": fields.Date.context_today(self),
            "invoice_date_due": max(self.line_ids.mapped("due_date")),
            "invoice_origin": self.name,
            "collections_fee_source": True,
            "invoice_line_ids": [(0, 0, {
                "name": self.env._("Payment plan %s: set-up fee and interest", self.name),
                "quantity": 1,
                "price_unit": extra,
                "tax_ids": [(5, 0, 0)],
            })],
        })
        invoice.action_post()
        # Bypass the draft-only lock: the fee invoice belongs to the plan by construction.
        self.env.cr.execute(SQL(
            "INSERT INTO collections_payment_plan_account_move_rel (plan_id, move_id) VALUES (%s, %s)",
            self.id, invoice.id,
        ))
        self.invalidate_recordset(["move_ids"])
        server(self).fee_move_id = invoice

    def action_cancel(self):
        for plan in self:
            if plan.state in ("completed", "cancelled"):
                raise UserError(self.env._("Plan %s is already closed.", plan.name))
        was_active = self.filtered(lambda p: p.state == "active")
        server(self).write({
            "state": "cancelled", "end_reason": self.env._("Cancelled by %s", self.env.user.name),
            "closed_date": fields.Date.context_today(self),
        })
        for plan in self:
            plan._log(self.env._("Payment plan %s cancelled", plan.name), "plan")
        if was_active:
            was_active.message_post(body=self.env._("Plan cancelled: follow-up of its invoices resumes."))
        return True

    def action_reset_draft(self):
        for plan in self:
            if plan.state not in ("proposed", "cancelled"):
                raise UserError(self.env._("Only a proposed or cancelled plan can go back to draft."))
        server(self).write({"state": "draft", "end_reason": False, "closed_date": False})
        return True

    def _send_template(self, xmlid, attach_agreement=False):
        """Email the customer from one of the plan templates, queued and kept
        in the plan's chatter; a customer without address gives a failed log entry."""
        self.ensure_one()
        plan = self.sudo()  # the scheduler and portal customers act for the company
        template = self.env.ref(xmlid)
        recipients = plan.partner_id.commercial_partner_id._collections_recipients()
        if not recipients:
            return plan._log(self.env._("%(mail)s not sent: the customer has no usable email address.",
                                        mail=template.name), "plan", state="failed")
        subject = template._render_field("subject", plan.ids, compute_lang=True)[plan.id]
        body = template._render_field("body_html", plan.ids, compute_lang=True)[plan.id]
        attachments = []
        if attach_agreement:
            # sudo: the plan's own agreement PDF, attached to the email sent to its customer.
            pdf, _kind = self.env["ir.actions.report"].sudo()._render_qweb_pdf(
                "collections_followup.action_report_payment_plan", plan.ids,
            )
            attachments = [(f"{plan._get_report_base_filename()}.pdf", pdf)]
        author = plan._collector().partner_id or self.env.company.partner_id
        return self.env["collections.send"].with_company(plan.company_id)._post_email(
            plan, subject, body, recipients, author, attachments)
