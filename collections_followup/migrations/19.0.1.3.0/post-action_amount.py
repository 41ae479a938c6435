"""19.0.1.3.0: a log entry's own amount (what a write-off, a deferral or an arrangement is about) has its field.

Before, those entries kept it in Total Due, the field every other entry gives the customer's receivable balance in.
Their amount is copied to the new field; their Total Due is left as it was (what the customer owed then was not
recorded). Idempotent (only entries without an amount)."""

CHANNELS = ("writeoff", "defer", "plan", "promise", "settlement", "dispute", "case")


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "UPDATE collections_action SET amount = amount_due WHERE channel IN %s AND amount IS NULL",
        (CHANNELS,),
    )
