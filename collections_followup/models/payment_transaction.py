from odoo import fields, models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _create_payment(self, **extra_create_values):
        """Several invoices paid at once at their early-payment discounts (the account page's payment): the
        discounts are written off as Odoo's batch payment (account.payment.register) writes them off, so that each
        invoice is paid in full. Odoo's own flow grants the discount to a transaction of one invoice only."""
        self.ensure_one()
        if "write_off_line_vals" not in extra_create_values:
            write_offs = self._collections_early_discounts()
            if write_offs:
                extra_create_values = {**extra_create_values, "write_off_line_vals": write_offs}
        return super()._create_payment(**extra_create_values)

    def _collections_early_discounts(self):
        """The write-off lines of the discounts of this transaction's invoices, when it pays several invoices and
        its amount is exactly theirs with the discounts still granted today (else none: Odoo's flow as it is)."""
        invoices = self.invoice_ids.filtered(lambda move: move.state == "posted")
        if len(invoices) < 2:
            return []
        currency, today = self.currency_id, fields.Date.context_today(self)
        discounted = invoices.filtered(lambda move: move.payment_state == "not_paid"
                                       and move._is_eligible_for_early_payment_discount(currency, today))
        if not discounted or invoices.currency_id != currency:
            return []
        terms = discounted.line_ids.filtered(lambda line: line.display_type == "payment_term" and not line.reconciled)
        to_pay = sum(terms.mapped("discount_amount_currency")) + sum((invoices - discounted).mapped("amount_residual"))
        if currency.compare_amounts(self.amount, to_pay) != 0:
            return []
        company = self.provider_id.company_id
        values = [{"aml": line, "amount_currency": -line.amount_residual_currency,
                   "balance": currency._convert(-line.amount_residual_currency, company.currency_id, company, today)}
                  for line in terms]
        discount = sum(discounted.mapped("amount_residual")) - sum(terms.mapped("discount_amount_currency"))
        open_balance = currency._convert(discount, company.currency_id, company, today)
        write_offs = []
        for lines in self.env["account.move"]._get_invoice_counterpart_amls_for_early_payment_discount(
                values, open_balance).values():
            write_offs += lines
        return write_offs
