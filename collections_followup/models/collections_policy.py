from datetime import time

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..engine.contact import ContactPolicy

WEEKDAY_FIELDS = (
    "contact_mon", "contact_tue", "contact_wed", "contact_thu", "contact_fri", "contact_sat", "contact_sun",
)


def _float_time(value):
    """9.5 -> time(9, 30); 24.0 -> the last minute of the day."""
    minutes = min(round(value * 60), 24 * 60 - 1)
    return time(minutes // 60, minutes % 60)


class CollectionsPolicy(models.Model):
    _name = "collections.policy"
    _description = "Follow-up Policy"
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
    )
    is_default = fields.Boolean(
        string="Default Policy",
        help="Applies to every customer of the company that has no policy of its own.",
    )
    user_id = fields.Many2one(
        "res.users", string="Default Collector", domain="[('share', '=', False)]",
        default=lambda self: self.env.user if not self.env.user._is_superuser() else False,
        help="Receives the tasks of customers who have no collector of their own.",
    )
    credit_limit_mode = fields.Selection(
        [("warn", "Warn only"), ("block", "Block")], string="Over Credit Limit", default="warn", required=True,
        help="Block: sales orders (and invoices, below) that take a customer over its credit limit are refused, "
             "and the daily run puts such customers on hold. Warn: a warning only.",
    )
    block_invoice_posting = fields.Boolean(
        string="Block Invoices Too",
        help="Posting a customer invoice is refused for customers on hold (or over the limit when blocking).",
    )
    # Payment plans, promises and settlements
    plan_grace_days = fields.Integer(
        default=5,
        help="Days an instalment may stay unpaid after its due date before the plan is broken.",
    )
    plan_reminder_days = fields.Integer(
        string="Instalment Reminder", default=3,
        help="Days before each instalment's due date the customer is reminded of it (0: no reminder).",
    )
    broken_plan_level_id = fields.Many2one(
        "collections.level", string="Level After a Broken Plan",
        domain="[('policy_id', '=', id)]",
        help="When a plan is broken, follow-up of its invoices resumes with this level "
             "(as soon as the invoices are late enough for it). Empty: from the first level.",
    )
    promise_grace_days = fields.Integer(
        default=3,
        help="Days after the promised date that a payment still counts as a kept promise; "
             "follow-up of the promised invoices waits until then.",
    )
    reply_pause_days = fields.Integer(
        string="Pause After a Reply", default=5,
        help="Days automatic reminders wait after the customer replies to a follow-up email, so that the "
             "collector reads the reply first (0: no pause). Out-of-office and other automatic replies do "
             "not pause.",
    )
    account_link_days = fields.Integer(
        string="Account Link Valid For", default=30,
        help="Days the account link in each reminder stays valid: it opens the customer's account (balance, "
             "overdue invoices to view and pay, a payment date to promise, an invoice to dispute, the "
             "statement) without a login. 0: reminders carry no link.",
    )
    reply_address = fields.Char(
        string="Replies Reach", compute="_compute_reply_address",
        help="Where a customer's reply to a follow-up email goes. The company's catchall address routes it back "
             "into Odoo: the customer's history, a task for the collector, the pause above. Without one "
             "(Settings > Technical > Email > Alias Domains), a reply goes to the sender's own mailbox (the "
             "collector's, else the company's) and Collections does not see it.",
    )
    writeoff_account_id = fields.Many2one(
        "account.account", string="Write-off Account", check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_other'))]",
        help="Account that receives the part of a debt forgiven by a settlement.",
    )
    writeoff_journal_id = fields.Many2one(
        "account.journal", string="Write-off Journal", check_company=True,
        domain="[('type', '=', 'general')]",
        help="Journal of the write-off entries. Empty: the company's first miscellaneous journal.",
    )
    # Late fees
    fee_product_id = fields.Many2one(
        "product.product", string="Late Fee Product", check_company=True,
        help="Product (and so income account and taxes) of the late fee invoices.",
    )
    fee_journal_id = fields.Many2one(
        "account.journal", string="Late Fee Journal", check_company=True, domain="[('type', '=', 'sale')]",
        help="Sales journal of the late fee invoices. Empty: the company's first sales journal.",
    )
    interest_margin = fields.Float(
        string="Interest Margin (points)", default=8.0, digits=(16, 2),
        help="Added to the reference rate in force (Collections > Configuration > Reference Rates) "
             "for statutory interest: 8 points under the EU Late Payment Directive.",
    )
    # Escalation
    escalation_mode = fields.Selection(
        [("approval", "Proposed to a manager"), ("automatic", "Placed automatically")], default="approval",
        required=True, help="What an 'Escalate' level does with the invoices reaching it.",
    )
    agency_id = fields.Many2one(
        "res.partner", string="Default Agency", domain="[('collections_is_agency', '=', True)]",
        help="Agency of the cases escalated by a level. Required to place them automatically.",
    )
    # Contact rules (README.md, "Contact rules")
    contact_rules = fields.Boolean(
        string="Apply Contact Rules", default=True,
        help="The scheduler sends emails and SMS only on the allowed days and hours in the customer's time "
             "zone, within the caps and gap below; a reminder that breaks a rule waits for the first allowed "
             "moment (and says why in the log). Collectors sending by hand see the rules but decide.",
    )
    contact_mon = fields.Boolean(string="Monday", default=True)
    contact_tue = fields.Boolean(string="Tuesday", default=True)
    contact_wed = fields.Boolean(string="Wednesday", default=True)
    contact_thu = fields.Boolean(string="Thursday", default=True)
    contact_fri = fields.Boolean(string="Friday", default=True)
    contact_sat = fields.Boolean(string="Saturday")
    contact_sun = fields.Boolean(string="Sunday")
    contact_hour_from = fields.Float(string="From", default=9.0, help="Customer's local time.")
    contact_hour_to = fields.Float(string="To", default=18.0, help="Customer's local time.")
    contact_min_gap_hours = fields.Integer(
        string="Minimum Gap (hours)", default=24,
        help="Least time between two reminders (email, SMS or letter) to the same customer.",
    )
    contact_window_days = fields.Integer(string="Caps Over (days)", default=7)
    contact_cap_email = fields.Integer(string="Emails", default=3, help="Most emails in the window; 0: no cap.")
    contact_cap_sms = fields.Integer(string="SMS", default=2, help="Most SMS in the window; 0: no cap.")
    contact_cap_call = fields.Integer(string="Calls", default=7, help="Most calls in the window; 0: no cap.")
    level_ids = fields.One2many("collections.level", "policy_id", string="Levels", copy=True)
    level_count = fields.Integer(compute="_compute_level_count")
    note = fields.Html(string="Internal Notes")

    _one_default_per_company = models.UniqueIndex(
        "(company_id) WHERE is_default AND active",
        "A company has one default follow-up policy: unset the current default first.",
    )

    _check_grace_days = models.Constraint(
        "CHECK (plan_grace_days >= 0 AND plan_reminder_days >= 0 AND promise_grace_days >= 0)",
        "Grace and reminder days cannot be negative.",
    )

    _check_contact_numbers = models.Constraint(
        "CHECK (contact_min_gap_hours >= 0 AND contact_window_days > 0 AND contact_cap_email >= 0 "
        "AND contact_cap_sms >= 0 AND contact_cap_call >= 0)",
        "Contact caps and the minimum gap cannot be negative, and caps count over at least one day.",
    )

    @api.constrains("contact_rules", "contact_hour_from", "contact_hour_to", *WEEKDAY_FIELDS)
    def _check_contact_rules(self):
        for policy in self.filtered("contact_rules"):
            if not any(policy[name] for name in WEEKDAY_FIELDS):
                raise ValidationError(self.env._(
                    "Policy '%s': allow at least one day of the week for contacting customers.", policy.name,
                ))
            if not 0 <= policy.contact_hour_from < policy.contact_hour_to <= 24:
                raise ValidationError(self.env._(
                    "Policy '%s': the contact hours must be within the day and end after they start.", policy.name,
                ))

    def _contact_policy(self):
        """The engine's ContactPolicy of this policy (None: no contact rules)."""
        self.ensure_one()
        if not self.contact_rules:
            return None
        return ContactPolicy(
            weekdays=frozenset(day for day, name in enumerate(WEEKDAY_FIELDS) if self[name]),
            start=_float_time(self.contact_hour_from),
            end=_float_time(self.contact_hour_to),
            caps=(("email", self.contact_cap_email), ("sms", self.contact_cap_sms), ("call", self.contact_cap_call)),
            window_days=self.contact_window_days,
            min_gap_hours=self.contact_min_gap_hours,
        )

    @api.depends("company_id.alias_domain_id")
    def _compute_reply_address(self):
        for policy in self:
            policy.reply_address = policy.company_id.catchall_email or self.env._(
                "the sender's own mailbox (no catchall address)")

    @api.depends("level_ids")
    def _compute_level_count(self):
        counts = dict(self.env["collections.level"]._read_group(
            [("policy_id", "in", self.ids)], ["policy_id"], ["__count"],
        ))
        for policy in self:
            policy.level_count = counts.get(policy, 0)

    @api.model
    def _followed_companies(self):
        """The companies the scheduled jobs follow up: the root of every company with a default policy. A branch
        is followed up with its root (its receivables are the root's, as Odoo's company hierarchy has them)."""
        # sudo: configuration, read by the scheduled jobs for every company.
        return self.sudo().search([("is_default", "=", True)]).company_id.root_id

    @api.model
    def _get_default_policy(self, company):
        return self.search([("company_id", "=", company.id), ("is_default", "=", True)], limit=1)

    def _writeoff_accounting(self):
        """(journal, account) of write-offs, or a UserError that says what to configure."""
        self.ensure_one()
        if not self.writeoff_account_id:
            raise UserError(self.env._(
                "Set a write-off account on the follow-up policy '%s' before writing off a debt.", self.name,
            ))
        journal = self.writeoff_journal_id or self.env["account.journal"].search([
            ("company_id", "=", self.company_id.id), ("type", "=", "general"),
        ], limit=1)
        if not journal:
            raise UserError(self.env._("The company has no miscellaneous journal to record the write-off in."))
        return journal, self.writeoff_account_id

    def action_set_default(self):
        self.ensure_one()
        self.search([("company_id", "=", self.company_id.id), ("is_default", "=", True)]).is_default = False
        self.is_default = True
