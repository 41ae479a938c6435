from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine import Level, validate_levels
from ..engine.levels import LevelConfigError


class CollectionsLevel(models.Model):
    _name = "collections.level"
    _description = "Follow-up Level"
    _order = "policy_id, delay, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    policy_id = fields.Many2one(
        "collections.policy", required=True, index=True, ondelete="cascade",
    )
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    delay = fields.Integer(
        string="Days After Due Date", required=True,
        help="Days after the due date when this level applies. Negative: a courtesy "
             "reminder that many days before the due date.",
    )
    min_amount = fields.Monetary(
        string="Minimum Amount", currency_field="currency_id",
        help="Nothing is sent at this level when the amount concerned is lower.",
    )
    send_email = fields.Boolean(default=True)
    mail_template_id = fields.Many2one(
        "mail.template", string="Email Template",
        domain=[("model", "=", "res.partner")],
    )
    attach_invoices = fields.Boolean(
        default=True,
        help="Attach the PDF of every invoice listed in the reminder.",
    )
    attach_statement = fields.Boolean(
        help="Attach the customer's statement of account (PDF: open items per currency with their aging, "
             "the last 90 days of activity with a running balance).",
    )
    send_sms = fields.Boolean(
        string="Send SMS",
        help="Also send a short text message to the customer's phone (Odoo SMS, normalised to the international "
             "format with the customer's country).",
    )
    sms_template_id = fields.Many2one(
        "sms.template", string="SMS Template", domain=[("model", "=", "res.partner")],
        default=lambda self: self.env.ref("collections_followup.sms_template_reminder", raise_if_not_found=False),
    )
    print_letter = fields.Boolean(
        help="Produce the follow-up letter PDF, kept on the action log for printing and posting.",
    )
    create_activity = fields.Boolean(string="Call Task")
    activity_type_id = fields.Many2one(
        "mail.activity.type", string="Task Type",
        default=lambda self: self.env.ref("mail.mail_activity_data_call", raise_if_not_found=False),
    )
    activity_summary = fields.Char(string="Task Summary", translate=True)
    activity_note = fields.Html(string="Task Note", translate=True)
    letter_text = fields.Html(
        translate=True,
        help="Opening paragraph of the follow-up letter at this level.",
    )
    credit_hold = fields.Boolean(
        string="Put on Credit Hold",
        help="Customers reaching this level are put on credit hold (new sales orders blocked); "
             "the hold is released automatically once nothing is overdue.",
    )
    fee_type = fields.Selection(
        [("none", "No Fee"), ("fixed", "Fixed Amount"), ("percent", "Percentage of Overdue"),
         ("interest", "Statutory Interest")],
        string="Late Fee", default="none", required=True,
        help="Charged once per invoice when it reaches this level, on a separate customer invoice, "
             "and mentioned in the reminder.",
    )
    fee_fixed = fields.Monetary(string="Fee Amount")
    fee_percent = fields.Float(string="Fee (% of overdue)", digits=(16, 2))
    fee_cap = fields.Monetary(string="Maximum Fee", help="Maximum fee per invoice (compensation excluded). 0: no cap.")
    fee_compensation = fields.Monetary(
        string="Fixed Compensation",
        help="Added once per invoice, to business customers only (e.g. 40 EUR under the EU Late Payment Directive).",
    )
    escalate = fields.Boolean(
        string="Escalate to Agency",
        help="Propose a collection case (agency) for the invoices reaching this level; the policy says "
             "whether a manager approves it first.",
    )
    manual_review = fields.Boolean(
        help="The scheduler does not execute this level: it asks the collector to review "
             "the customer and send the follow-up by hand.",
    )

    @api.constrains("delay", "min_amount", "policy_id")
    def _check_delays(self):
        for policy in self.policy_id:
            try:
                validate_levels([
                    Level(id=level.id, delay=level.delay, min_amount=level.min_amount, name=level.name)
                    for level in policy.level_ids
                ])
            except LevelConfigError as error:
                if error.code == "duplicate_delay":
                    message = self.env._(
                        "Policy '%(policy)s': two levels cannot share the same delay (%(days)s days). "
                        "Give each level its own number of days after the due date.",
                        policy=policy.name, days=error.values["days"],
                    )
                else:
                    message = self.env._(
                        "Policy '%(policy)s': the minimum amount of level '%(level)s' cannot be negative.",
                        policy=policy.name, level=error.values["level"],
                    )
                raise ValidationError(message) from error

    @api.constrains("send_email", "mail_template_id")
    def _check_template(self):
        for level in self:
            if level.send_email and not level.mail_template_id:
                raise ValidationError(self.env._(
                    "Level '%(level)s' sends an email: choose the email template it uses, "
                    "or untick 'Send Email'.", level=level.name,
                ))

    @api.constrains("send_sms", "sms_template_id")
    def _check_sms_template(self):
        for level in self:
            if level.send_sms and not level.sms_template_id:
                raise ValidationError(self.env._(
                    "Level '%(level)s' sends an SMS: choose the SMS template it uses, or untick 'Send SMS'.",
                    level=level.name,
                ))

    @api.constrains("create_activity", "activity_type_id")
    def _check_activity_type(self):
        for level in self:
            if level.create_activity and not level.activity_type_id:
                raise ValidationError(self.env._(
                    "Level '%(level)s' creates a task: choose its task type.", level=level.name,
                ))

    @api.constrains("fee_type", "fee_fixed", "fee_percent", "fee_cap", "fee_compensation")
    def _check_fee(self):
        for level in self:
            if min(level.fee_fixed, level.fee_percent, level.fee_cap, level.fee_compensation) < 0:
                raise ValidationError(self.env._("Level '%s': fee amounts cannot be negative.", level.name))
            if level.fee_type == "fixed" and not level.fee_fixed:
                raise ValidationError(self.env._("Level '%s': enter the fixed fee amount.", level.name))
            if level.fee_type == "percent" and not level.fee_percent:
                raise ValidationError(self.env._("Level '%s': enter the fee percentage.", level.name))
            if level._charges_fees() and not level.policy_id.fee_product_id:
                raise ValidationError(self.env._(
                    "Level '%(level)s' charges a late fee: choose the Late Fee Product on the Late Fees tab "
                    "of policy '%(policy)s' first.", level=level.name, policy=level.policy_id.name,
                ))

    def _channels(self):
        """The channels this level uses, in the order the run uses them: email, sms, letter, call."""
        self.ensure_one()
        return tuple(name for name, flag in (
            ("email", self.send_email), ("sms", self.send_sms), ("letter", self.print_letter),
            ("call", self.create_activity),
        ) if flag)

    def _charges_fees(self):
        self.ensure_one()
        return self.fee_type != "none" or bool(self.fee_compensation)

    def _to_engine(self):
        return [
            Level(id=level.id, delay=level.delay, min_amount=level.min_amount, name=level.name)
            for level in self
        ]
