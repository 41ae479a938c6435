"""19.0.1.1.0: follow-up levels are kept per receivable journal item (each instalment on its own).

Before, the level was the invoice's only. Each receivable item of an invoice that had fallen due by
the invoice's last reminder is given the invoice's level and reminder date (it was reminded at that
level); an instalment falling due later has none and starts at the first level. Idempotent: items
that already have a level are left alone."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE account_move_line line
           SET collections_level_id = move.collections_level_id,
               collections_last_reminder_date = move.collections_last_reminder_date
          FROM account_move move, account_account account
         WHERE move.id = line.move_id
           AND account.id = line.account_id
           AND account.account_type = 'asset_receivable'
           AND move.collections_level_id IS NOT NULL
           AND line.collections_level_id IS NULL
           AND (move.collections_last_reminder_date IS NULL
                OR COALESCE(line.date_maturity, line.date) <= move.collections_last_reminder_date)
        """
    )
