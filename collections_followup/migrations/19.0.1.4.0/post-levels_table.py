"""19.0.1.4.0: the follow-up levels leave the accounting rows for the addon's own narrow tables.

The level and last reminder of each receivable journal item were columns of ``account_move_line``, the invoice's
level, last reminder and reminder count columns of ``account_move`` (every reminder rewrote those accounting
rows). They are now rows of ``collections_item_level`` and ``collections_invoice_level`` (see
models/collections_item_level.py). This script copies what the old columns hold into them (the rows already
there are kept: a row is written by the run only) and drops the old columns, so that nothing reads a stale copy.
Idempotent: once the columns are gone there is nothing to do."""

from odoo.tools import sql

LINE_COLUMNS = ("collections_level_id", "collections_last_reminder_date")
MOVE_COLUMNS = ("collections_level_id", "collections_last_reminder_date", "collections_reminder_count")


def migrate(cr, version):
    if not version:
        return
    if sql.column_exists(cr, "account_move_line", "collections_level_id"):
        cr.execute(
            """
            INSERT INTO collections_item_level (line_id, move_id, company_id, level_id, reminded_on)
                 SELECT line.id, line.move_id, line.company_id, level.id, line.collections_last_reminder_date
                   FROM account_move_line line
              LEFT JOIN collections_level level ON level.id = line.collections_level_id
                  WHERE line.collections_level_id IS NOT NULL OR line.collections_last_reminder_date IS NOT NULL
            ON CONFLICT (line_id) DO NOTHING
            """
        )
    if sql.column_exists(cr, "account_move", "collections_level_id"):
        cr.execute(
            """
            INSERT INTO collections_invoice_level (move_id, company_id, level_id, reminded_on, reminder_count)
                 SELECT move.id, move.company_id, level.id, move.collections_last_reminder_date,
                        GREATEST(COALESCE(move.collections_reminder_count, 0), 0)
                   FROM account_move move
              LEFT JOIN collections_level level ON level.id = move.collections_level_id
                  WHERE move.collections_level_id IS NOT NULL OR move.collections_last_reminder_date IS NOT NULL
                        OR COALESCE(move.collections_reminder_count, 0) > 0
            ON CONFLICT (move_id) DO NOTHING
            """
        )
    for table, columns in (("account_move_line", LINE_COLUMNS), ("account_move", MOVE_COLUMNS)):
        for column in columns:
            if sql.column_exists(cr, table, column):
                cr.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')  # names of this script
