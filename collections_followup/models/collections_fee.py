from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..engine.fees import FeeError, RatePeriod, allocate_credits, late_fee, reduce_balances, statutory_interest
from .collections_guard import server


def _in_currency(amount, owed, owed_company, currency):
    """``amount`` of an item's company-currency residual ``owed_company``, in its currency where it owes ``owed``."""
    if owed == owed_company or not owed_company:
        return amount
    return Decimal(str(currency.round(float(Decimal(str(amount)) * owed / owed_company))))


def _policy_amount(value, company, currency, day):
    """A policy's fixed amount (in the company's currency) in an invoice's ``currency``, at ``day``'s rate."""
    if not value or currency == company.currency_id:
        return value
    return company.currency_id._convert(value, currency, company, day)


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
    # The late invoice's currency: a fee on an invoice in euros is worked out and invoiced in euros.
    currency_id = fields.Many2one("res.currency", required=True, readonly=True,
                                  default=lambda self: self.env.company.currency_id)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    date = fields.Date(required=True, readonly=True)
    days_late = fields.Integer(readonly=True)
    amount = fields.Monetary(string="Fee", readonly=True, help="Everything charged: fee, interest and compensation, "
                             "in the late invoice's currency.")
    interest = fields.Monetary(readonly=True)
    compensation = fields.Monetary(readonly=True)
    amount_company = fields.Monetary(
        string="Fee in Company Currency", currency_field="company_currency_id", readonly=True,
        help="The fee at the rate of the day it was charged (its invoice's own rate): what the totals add up.")
    fee_move_id = fields.Many2one("account.move", string="Fee Invoice", readonly=True, index="btree_not_null")

    _once_per_level = models.UniqueIndex(
        "(move_id, level_id)", "A late fee is charged once per invoice and level.",
    )

    # --- what a reminder charges (the run's late fees and statutory interest) ---

    @api.model
    def _announced(self, fees):
        """The fees a reminder or a letter announces, ((invoice, amount, days late, currency id), ...), with their
        currency as a record to format the amount (without a currency id: the company's)."""
        Currency = self.env["res.currency"]
        return tuple((fee[0], fee[1], fee[2], Currency.browse(fee[3]) if len(fee) > 3 and fee[3]
                      else self.env.company.currency_id) for fee in fees or ())

    @api.model
    def _fees_due(self, partner, policy, level, decision, origin, today):
        """Fees for the invoices reaching a level that charges them today.

        Nothing is written. Each invoice pays a level's fee once; statutory
        interest charged at a later level is only what accrued since (the
        interest from the due date to today, less the interest already
        charged); the fixed compensation is charged once per invoice.
        A fee on an invoice in another currency is worked out in that currency (what is late of it in that
        currency, its payments as they were booked in it); the policy's fixed amounts, cap and compensation are
        in the company's currency, converted at the day's rate."""
        if origin == "scheduler":
            # An invoice whose instalments reach different levels today pays the highest one's fee.
            reached = {}
            for item in decision.items:
                if item.target_level_id:
                    reached.setdefault(item.move_id, set()).add(item.target_level_id)
            delays = {lvl.id: lvl.delay for lvl in self.env["collections.level"].sudo().browse(
                set().union(*reached.values()) if reached else set())}
            targets = {move_id: max(ids, key=delays.get) for move_id, ids in reached.items()}
        else:
            targets = dict.fromkeys(decision.listed_move_ids, level.id)
        levels = self.env["collections.level"].sudo().browse(set(targets.values()))
        charging = {lvl.id: lvl for lvl in levels if lvl._charges_fees()}
        if not charging:
            return []
        company = self.env.company
        moves = self.env["account.move"].sudo().browse(
            sorted(mid for mid, lid in targets.items() if lid in charging)
        ).filtered(lambda m: m.move_type == "out_invoice" and not m.collections_fee_source and m.invoice_date_due)
        previous = self.env["collections.fee"].sudo().search([("move_id", "in", moves.ids)])
        charged = {(fee.move_id.id, fee.level_id.id) for fee in previous}
        interest_charged = defaultdict(Decimal)
        compensated = set()
        for fee in previous:
            interest_charged[fee.move_id.id] += Decimal(str(fee.interest))
            if fee.compensation:
                compensated.add(fee.move_id.id)
        rates = None
        fees = []
        allocations = self._credit_allocations(decision, today)
        Ledger = self.env["collections.ledger"]
        for move in moves:
            lvl = charging[targets[move.id]]
            if (move.id, lvl.id) in charged:
                continue
            # Each instalment on its own (an invoice on an instalment term has several): what is
            # late of it, less the unapplied credits allocated to it (oldest debt first); nothing
            # is charged on what the credits cover, nor on instalments not yet due.
            currency = move.currency_id
            foreign = currency != company.currency_id
            late_lines = [
                (line, line.date_maturity or line.date) for line in Ledger._open_lines_of(move)
                if line.amount_residual > 0 and (line.date_maturity or line.date) < today
                and (not foreign or line.amount_residual_currency > 0)
            ]
            owed = {due: Decimal(0) for _line, due in late_lines}
            owed_company = dict(owed)
            for line, due in late_lines:
                owed[due] += Decimal(str(line.amount_residual_currency if foreign else line.amount_residual))
                owed_company[due] += Decimal(str(line.amount_residual))
            # The credits are allocated in company currency: in the invoice's currency, each instalment's share
            # at the rate of what is left of it (its residual in the currency over its residual).
            allocated = {due: tuple((day, _in_currency(amount, owed[due], owed_company[due], currency))
                                    for day, amount in allocations.get((move.id, due), ()))
                         for due in owed}
            overdue = sum(owed.values(), Decimal(0)) - sum(
                (amount for parts in allocated.values() for _day, amount in parts), Decimal(0))
            if overdue <= 0:
                continue
            interest = Decimal(0)
            if lvl.fee_type == "interest":
                if rates is None:
                    rates = self.env["collections.interest.rate"]._periods(company)
                accrued = Decimal(0)
                for line, due in late_lines:
                    try:
                        # Interest runs on each instalment from its own due date.
                        accrued += statutory_interest(
                            due, today, reduce_balances(Ledger._balance_history(line, in_currency=foreign),
                                                        allocated[due]),
                            rates, Decimal(str(policy.interest_margin)), currency.decimal_places,
                        )
                    except FeeError as error:
                        raise UserError(self.env._(
                            "No reference interest rate is in force on %(day)s: add it under Collections > "
                            "Configuration > Reference Rates before charging interest on %(invoice)s.",
                            day=error.values.get("day"), invoice=move.name,
                        )) from error
                interest = max(accrued - interest_charged[move.id], Decimal(0))
            compensation = Decimal(0)
            if lvl.fee_compensation and partner.commercial_partner_id.is_company and move.id not in compensated:
                compensation = Decimal(str(_policy_amount(lvl.fee_compensation, company, currency, today)))
            amount = late_fee(
                lvl.fee_type, overdue, currency.decimal_places,
                fixed=_policy_amount(lvl.fee_fixed, company, currency, today), percent=lvl.fee_percent,
                interest=interest, cap=_policy_amount(lvl.fee_cap, company, currency, today), compensation=compensation,
            )
            if amount > 0:
                fees.append({
                    "move": move, "level": lvl, "amount": amount, "interest": min(interest, amount),
                    "compensation": compensation, "days_late": (today - min(owed)).days, "currency": currency,
                    # What the totals add (the run preview, the fees' list): at the day's rate, as the fee invoice
                    # of the day books it.
                    "amount_company": amount if not foreign else Decimal(str(currency._convert(
                        float(amount), company.currency_id, company, today))),
                })
        return fees

    @api.model
    def _credit_allocations(self, decision, today):
        """{(move id, due date): [(date, amount)]}: the customer's unapplied credits allocated to the items the
        decision lists, oldest due date first, each credit from its date (engine.fees.allocate_credits).
        Amounts in company currency, as the decision's residuals."""
        if not decision.total_credits:
            return {}
        listed = set(decision.listed_items) or {(item.move_id, item.days_late) for item in decision.items
                                                if item.move_id in set(decision.listed_move_ids)}
        owed = [((item.move_id, today - timedelta(days=item.days_late)), today - timedelta(days=item.days_late),
                 item.residual)
                for item in decision.items if (item.move_id, item.days_late) in listed and item.residual > 0]
        credits, left = [], decision.total_credits
        for item in sorted((i for i in decision.items if i.residual < 0), key=lambda i: -i.days_late):
            take = min(-item.residual, left)  # excluded credits are not in total_credits: capped by it
            if take > 0:
                credits.append((today - timedelta(days=item.days_late), take))
                left -= take
        return allocate_credits(owed, credits)

    @api.model
    def _charge_fees(self, partner, policy, fees, origin, today):
        """One customer invoice for today's fees, posted, and one log entry."""
        if not policy.fee_product_id:
            raise UserError(self.env._(
                "Policy '%s' charges late fees: choose its Late Fee Product first.", policy.name,
            ))
        company = self.env.company
        journal = policy.fee_journal_id or self.env["account.journal"].search([
            ("company_id", "=", company.id), ("type", "=", "sale"),
        ], limit=1)
        # One invoice per currency: the fees on invoices in euros are invoiced in euros.
        by_currency = defaultdict(list)
        for fee in fees:
            by_currency[fee["currency"]].append(fee)
        charged = []
        for currency, group in sorted(by_currency.items(), key=lambda pair: (pair[0] != company.currency_id,
                                                                             pair[0].name)):
            lines = []
            for fee in group:
                label = self.env._(
                    "Late payment charges on %(invoice)s (%(days)s days late, %(level)s)",
                    invoice=fee["move"].name, days=fee["days_late"], level=fee["level"].name,
                )
                lines.append((0, 0, {
                    "product_id": policy.fee_product_id.id, "name": label, "quantity": 1,
                    "price_unit": float(fee["amount"]),
                }))
            invoice = server(self.env["account.move"].sudo().with_company(company)).create({
                "move_type": "out_invoice",
                "partner_id": partner.commercial_partner_id.id,
                "journal_id": journal.id,
                "currency_id": currency.id,
                "invoice_date": today,
                "invoice_origin": self.env._("Late payment charges"),
                "collections_fee_source": True,
                "invoice_line_ids": lines,
            })
            invoice.action_post()
            server(self.env["collections.fee"].sudo()).create([{
                "move_id": fee["move"].id,
                "level_id": fee["level"].id,
                "partner_id": partner.commercial_partner_id.id,
                "company_id": company.id,
                "currency_id": currency.id,
                "date": today,
                "days_late": fee["days_late"],
                "amount": float(fee["amount"]),
                "interest": float(fee["interest"]),
                "compensation": float(fee["compensation"]),
                "amount_company": float(fee["amount_company"]),
                "fee_move_id": invoice.id,
            } for fee in group])
            charged.append(self.env._(
                "%(amount)s invoiced on %(invoice)s",
                amount=currency.format(float(sum(fee["amount"] for fee in group))), invoice=invoice.name,
            ))
        return self.env["collections.send"]._log(
            partner, policy, fees[0]["level"], "fee", origin, today, [fee["move"].id for fee in fees],
            note=self.env._("Late payment charges of %s", ", ".join(charged)),
            amount=float(sum(fee["amount_company"] for fee in fees)),
        )
