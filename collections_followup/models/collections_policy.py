from odoo import api, fields, models


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
    level_ids = fields.One2many("collections.level", "policy_id", string="Levels", copy=True)
    level_count = fields.Integer(compute="_compute_level_count")
    note = fields.Html(string="Internal Notes")

    _one_default_per_company = models.UniqueIndex(
        "(company_id) WHERE is_default AND active",
        "A company has one default follow-up policy: unset the current default first.",
    )

    @api.depends("level_ids")
    def _compute_level_count(self):
        counts = dict(self.env["collections.level"]._read_group(
            [("policy_id", "in", self.ids)], ["policy_id"], ["__count"],
        ))
        for policy in self:
            policy.level_count = counts.get(policy, 0)

    @api.model
    def _get_default_policy(self, company):
        return self.search([("company_id", "=", company.id), ("is_default", "=", True)], limit=1)

    def action_set_default(self):
        self.ensure_one()
        self.search([("company_id", "=", self.company_id.id), ("is_default", "=", True)]).is_default = False
        self.is_default = True
