"""19.0.1.1.0: follow-up levels are kept per receivable journal item (each instalment on its own).

Before, the level was the invoice's only. Each receivable item of an invoice that had fallen due by
the invoice's last reminder is given the invoice's level and reminder date (it was reminded at that
level); an instalment falling due later has none and starts at the first level. Idempotent: items
that already have a level are left alone.

Since 19.0.1.4.0 the items' levels are rows of collections_item_level: a database updated from 19.0.1.0.0 straight
to it never had the items' columns, so they are written there (19.0.1.4.0's script then moves the invoice's)."""

from odoo.tools import sql


def migrate(cr, version):
    if not version or not sql.column_exists(cr, "account_move", "collections_level_id"):
        return  # a fresh install, or the invoice's column already moved on by 19.0.1.4.0's script
    if not sql.column_exists(cr, "account_move_line", "collections_level_id"):
        cr.execute(
            """
            INSERT INTO collections_item_level (line_id, move_id, company_id, level_id, reminded_on)
                 SELECT line.id, line.move_id, line.company_id, level.id, move.collections_last_reminder_date
                   FROM account_move_line line
                   JOIN account_move move ON move.id = line.move_id
                   JOIN account_account account ON account.id = line.account_id
                   JOIN collections_level level ON level.id = move.collections_level_id
                  WHERE account.account_type = 'asset_receivable'
                    AND (move.collections_last_reminder_date IS NULL
                         OR COALESCE(line.date_maturity, line.date) <= move.collections_last_reminder_date)
            ON CONFLICT (line_id) DO NOTHING
            """
        )
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
