"""19.0.1.3.0: a late fee has its own currency (the late invoice's) and its amount in company currency.

The fees charged before were all worked out and invoiced in the company's currency: that is their currency, and
their amount is their amount in company currency. Idempotent (only fees without an amount in company currency)."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE collections_fee fee
           SET currency_id = company.currency_id, amount_company = fee.amount
          FROM res_company company
         WHERE company.id = fee.company_id AND fee.amount_company IS NULL
        """
    )
