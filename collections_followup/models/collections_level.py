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

    @api.constrains("create_activity", "activity_type_id")
    def _check_activity_type(self):
        for level in self:
            if level.create_activity and not level.activity_type_id:
                raise ValidationError(self.env._(
                    "Level '%(level)s' creates a task: choose its task type.", level=level.name,
                ))

    def _to_engine(self):
        return [
            Level(id=level.id, delay=level.delay, min_amount=level.min_amount, name=level.name)
            for level in self
        ]
