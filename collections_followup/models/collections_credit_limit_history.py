from odoo import fields, models


class CollectionsCreditLimitHistory(models.Model):
    """Every change of a customer's credit limit: who, when, from what to what, and why."""

    _name = "collections.credit.limit.history"
    _inherit = ["collections.guard.mixin"]
    _description = "Credit Limit Change"
    _order = "date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Changed By", required=True, readonly=True)
    old_limit = fields.Monetary(readonly=True, currency_field="currency_id")
    new_limit = fields.Monetary(readonly=True, currency_field="currency_id")
    reason = fields.Char(readonly=True)
