from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..engine.contact import normalize_phone
from ..models.collections_action import CALL_OUTCOMES


class CollectionsCallWizard(models.TransientModel):
    """The outcome of a call to a customer, and the next step it sets.

    reached: logged, task done; no answer: logged, a new call task on the next
    day the contact rules allow; promise: a promise to pay; dispute: a dispute
    (which pauses follow-up); wrong number: the right number if the customer
    gave it, else a task to find it; call back: a call task at the time asked."""

    _name = "collections.call.wizard"
    _description = "Log a Call"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    activity_id = fields.Many2one("mail.activity", string="Call Task", readonly=True)
    phone = fields.Char(compute="_compute_call_info")
    local_time = fields.Char(string="Customer's Time", compute="_compute_call_info")
    contact_warning = fields.Char(compute="_compute_call_info")
    amount_overdue = fields.Monetary(compute="_compute_call_info", currency_field="currency_id")
    outcome = fields.Selection(CALL_OUTCOMES, required=True)
    note = fields.Text(help="What was said; kept in the Collections Log.")
    promise_amount = fields.Monetary(string="Promised Amount", currency_field="currency_id")
    promise_date = fields.Date(string="Promised Date")
    move_ids = fields.Many2many(
        "account.move", string="Invoices",
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'), "
               "('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
        help="Invoices the promise or the dispute is about.",
    )
    dispute_reason_id = fields.Many2one("collections.dispute.reason")
    callback_at = fields.Datetime(string="Call Back At", help="In your own time zone.")
    new_phone = fields.Char(string="Right Number", help="The right number, if the person who answered gave it.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        partner = self.env["res.partner"].browse(values.get("partner_id")).commercial_partner_id
        if partner:
            values["partner_id"] = partner.id
            overdue = self.env["collections.arrangement.mixin"]._open_invoices(partner, self.env.company, True)
            values.setdefault("move_ids", [(6, 0, overdue.ids)])
            values.setdefault("promise_amount", sum(overdue.mapped("amount_residual_signed")))
            if not values.get("activity_id"):
                values["activity_id"] = self._call_task(partner).id
        return values

    @api.model
    def _call_task(self, partner):
        """The customer's open call task, the earliest first."""
        # sudo: a collector's wizard (collectors-only ACL) closes the customer's call task even
        # when a colleague owns it; only this customer's activities are read.
        return partner.sudo().activity_ids.filtered(
            lambda a: a.activity_type_id.category == "phonecall"
        ).sorted("date_deadline")[:1]

    @api.depends("partner_id")
    def _compute_call_info(self):
        # sudo: phone, time zone and call history of the wizard's one customer, for its collector.
        Send = self.env["collections.send"].sudo()
        Rules = self.env["collections.contact.rules"].sudo()
        now = fields.Datetime.now()
        for wizard in self:
            partner = wizard.partner_id.sudo()
            if not partner:
                wizard.update({"phone": False, "local_time": False, "contact_warning": False, "amount_overdue": 0})
                continue
            number, _error = Rules._sms_number(partner)
            tz = Rules._customer_tz(partner)
            wizard.phone = number or partner.phone
            local = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
            wizard.local_time = f"{local.strftime('%a %H:%M')} ({tz})"
            wizard.amount_overdue = partner.with_company(wizard.company_id).collections_total_overdue
            policy = partner.with_company(wizard.company_id)._collections_policy(wizard.company_id)
            warnings = list(Rules._blocked_channels(partner, {"call"}).values())
            when, reasons = Send.with_company(wizard.company_id)._next_call(partner, policy, now)
            if reasons:
                warnings.append(self.env._(
                    "Contact rules: the next call is allowed from %s, customer's time.",
                    when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M"),
                ))
            wizard.contact_warning = " ".join(warnings) or False

    def _check_values(self):
        self.ensure_one()
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)
        if self.outcome == "promise":
            if self.promise_amount <= 0 or not self.promise_date:
                raise UserError(self.env._("A promise to pay needs a positive amount and a date."))
            if self.promise_date < today:
                raise UserError(self.env._("The promised date cannot be in the past."))
        if self.outcome in ("promise", "dispute") and not self.move_ids:
            raise UserError(self.env._("Choose the invoices the customer is talking about."))
        if self.outcome == "dispute" and not self.dispute_reason_id:
            raise UserError(self.env._("Choose the reason of the dispute."))
        if self.outcome == "call_back" and (not self.callback_at or self.callback_at <= now):
            raise UserError(self.env._("Enter when to call back: a moment in the future."))
        if self.outcome == "wrong_number" and self.new_phone:
            country = self.partner_id.country_id or self.company_id.country_id
            number, error = normalize_phone(self.new_phone, country.code)
            if error:
                raise UserError(self.env._(
                    "%(number)s is not a valid phone number for %(country)s: check it or leave it empty "
                    "to get a task to find the right one.", number=self.new_phone, country=country.name or "-",
                ))
            return number
        return None

    def action_log(self):
        """Log the call and set its next step; everything or nothing."""
        self.ensure_one()
        number = self._check_values()
        # sudo: the log is written by the system (collections.action has no write ACL), the phone
        # fix is a contact edit collectors may do anyway; the values were checked above.
        partner = self.partner_id.sudo().with_company(self.company_id)
        send = self.env["collections.send"].with_company(self.company_id)
        policy = partner._collections_policy(self.company_id)
        outcomes = dict(self._fields["outcome"]._description_selection(self.env))
        next_step = self._next_step(partner, send, policy, number)
        note = " - ".join(filter(None, [outcomes[self.outcome], next_step, self.note]))
        send._log(
            partner, policy, False, "phone", "manual", fields.Date.context_today(self), self.move_ids.ids,
            call_outcome=self.outcome, note=note,
            amount_overdue=partner.collections_total_overdue, amount_due=partner.collections_total_due,
        )
        if self.activity_id.exists():
            # sudo: the call task is marked done by the collector who made the call, whoever it was assigned to.
            self.activity_id.sudo().action_feedback(feedback=note)
        return {"type": "ir.actions.act_window_close"}

    def _next_step(self, partner, send, policy, number):
        """Do what the outcome calls for; returns the sentence the log keeps."""
        collector = send._collector(partner, policy)
        if self.outcome == "promise":
            promise = self.env["collections.promise"].create({
                "partner_id": partner.id, "company_id": self.company_id.id, "amount": self.promise_amount,
                "promised_date": self.promise_date, "channel": "phone", "move_ids": [(6, 0, self.move_ids.ids)],
                "note": self.note,
            })
            return promise.display_name
        if self.outcome == "dispute":
            dispute = self.env["collections.dispute"].create({
                "partner_id": partner.id, "company_id": self.company_id.id, "reason_id": self.dispute_reason_id.id,
                "move_ids": [(6, 0, self.move_ids.ids)],
                "description": self.note or self.env._("Raised by the customer on the phone."),
            })
            return self.env._("dispute %s opened", dispute.name)
        if self.outcome == "no_answer":
            # Try again on the next day the rules allow, not the same hour.
            after = fields.Datetime.now() + timedelta(hours=max(policy.contact_min_gap_hours if policy else 0, 20))
            when, _reasons = send._next_call(partner, policy, after)
            return self._schedule_call(partner, collector, when, self.env._("Call again (no answer)"))
        if self.outcome == "call_back":
            when = self.callback_at.replace(tzinfo=timezone.utc)
            return self._schedule_call(partner, collector, when, self.env._("Call back as agreed"))
        if self.outcome == "wrong_number":
            if number:
                partner.phone = number
                when = fields.Datetime.now().replace(tzinfo=timezone.utc)
                return self._schedule_call(partner, collector, when, self.env._("Call the corrected number %s", number))
            send._ask_contact_fix(partner, policy, self.env["collections.action"], fields.Date.context_today(self),
                                  kind="phone")
            return self.env._("task to find the right number")
        return False

    def _schedule_call(self, partner, user, when, summary):
        tz = self.env["collections.contact.rules"]._customer_tz(partner)
        local = when.astimezone(ZoneInfo(tz))
        partner.activity_schedule(
            "mail.mail_activity_data_call", user_id=user.id, date_deadline=local.date(),
            summary=self.env._("%(summary)s at %(time)s (customer's time)", summary=summary,
                               time=local.strftime("%H:%M")),
        )
        return self.env._("next call %(when)s (%(tz)s)", when=local.strftime("%Y-%m-%d %H:%M"), tz=tz)
