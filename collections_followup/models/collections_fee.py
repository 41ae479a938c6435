from decimal import Decimal

from odoo import api, fields, models

from ..engine.fees import RatePeriod


class CollectionsInterestRate(models.Model):
    """Reference rate of statutory interest (e.g. the ECB main refinancing
    rate), in force from a date until the next one; the policy adds its margin."""

    _name = "collections.interest.rate"
    _description = "Reference Interest Rate"
    _order = "company_id, date_from desc"
    _check_company_auto = True

    name = fields.Char(string="Source", default="Reference rate", required=True)
    date_from = fields.Date(string="In Force From", required=True)
    rate = fields.Float(string="Rate (% per year)", digits=(16, 4), required=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)

    _one_rate_per_day = models.UniqueIndex(
        "(company_id, date_from)", "There is already a reference rate from that date.",
    )

    @api.model
    def _periods(self, company):
        # sudo: the company's published reference rates, read to compute interest; nothing else is returned.
        rates = self.sudo().search([("company_id", "=", company.id)], order="date_from")
        return [RatePeriod(rate.date_from, rate._decimal_rate()) for rate in rates]

    def _decimal_rate(self):
        return Decimal(str(self.rate))


class CollectionsFee(models.Model):
    """A late fee charged on one invoice at one level: never twice."""

    _name = "collections.fee"
    _inherit = ["collections.guard.mixin"]
    _description = "Late Fee"
    _order = "date desc, id desc"
    _rec_name = "move_id"
    _check_company_auto = True

    move_id = fields.Many2one("account.move", string="Late Invoice", required=True, index=True, readonly=True)
    level_id = fields.Many2one("collections.level", required=True, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, readonly=True)
    days_late = fields.Integer(readonly=True)
    amount = fields.Monetary(string="Fee", readonly=True, help="Everything charged: fee, interest and compensation.")
    interest = fields.Monetary(readonly=True)
    compensation = fields.Monetary(readonly=True)
    fee_move_id = fields.Many2one("account.move", string="Fee Invoice", readonly=True, index="btree_not_null")

    _once_per_level = models.UniqueIndex(
        "(move_id, level_id)", "A late fee is charged once per invoice and level.",
    )
