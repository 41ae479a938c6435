"""Where the follow-up levels live: two narrow tables of the addon's own, keyed by journal item and by invoice.

A reminder used to write its level on the accounting rows themselves (``account_move_line`` and the invoice's
``account_move``): every reminded item's row rewritten, with its twenty-odd indexes and no HOT update, locks on
the accounting tables while the run sends. Measured on 10,000 items (tools/bench_levels.py, bench/results.md):
2.3-5.5 s and 28-128 MB of WAL there, 0.6-0.8 s and 6 MB in these two tables. The accounting rows are no longer
touched by a reminder.

Written by the ledger's one writer of levels (``collections.ledger._set_levels``) only, in SQL; read by everyone
through the journal item's and the invoice's *Follow-up Level* fields (computed, searchable, grouped by:
``_field_to_sql`` on those models), and by the ledger's own queries, which join them. Nobody creates, changes or
deletes a row through the ORM (read access only); a row goes with its journal item or invoice (ON DELETE
CASCADE)."""

import operator as op

from odoo import fields, models
from odoo.fields import Domain
from odoo.tools import SQL


class CollectionsItemLevel(models.Model):
    """The follow-up level one receivable journal item (an invoice, or one instalment of it) reached."""

    _name = "collections.item.level"
    _description = "Collections: follow-up level of a receivable item"
    _log_access = False
    _rec_name = "line_id"

    line_id = fields.Many2one("account.move.line", string="Journal Item", required=True, readonly=True,
                              ondelete="cascade")
    move_id = fields.Many2one("account.move", string="Invoice", required=True, readonly=True, ondelete="cascade",
                              index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    level_id = fields.Many2one("collections.level", string="Follow-up Level", readonly=True, ondelete="set null")
    reminded_on = fields.Date(string="Last Reminder", readonly=True)

    _line_unique = models.UniqueIndex("(line_id)")


class CollectionsInvoiceLevel(models.Model):
    """An invoice's follow-up summary: the highest level among its items, its last reminder, how many it had."""

    _name = "collections.invoice.level"
    _description = "Collections: follow-up level of an invoice"
    _log_access = False
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    level_id = fields.Many2one("collections.level", string="Follow-up Level", readonly=True, ondelete="set null",
                               index="btree_not_null")
    reminded_on = fields.Date(string="Last Reminder", readonly=True)
    reminder_count = fields.Integer(string="Reminders Sent", readonly=True)

    _move_unique = models.UniqueIndex("(move_id)")


def level_sql(table, key, alias, column):
    """SQL of one column of a level table for the row of ``alias`` (a correlated subquery: at most one row, by
    the unique key), for the ``_field_to_sql`` of the fields that show it."""
    return SQL("(SELECT level.%s FROM %s level WHERE level.%s = %s)", SQL.identifier(column), SQL.identifier(table),
               SQL.identifier(key), SQL.identifier(alias, "id"))


INEQUALITIES = {"<": op.lt, "<=": op.le, ">": op.gt, ">=": op.ge}


def search_level(model, level_model, key, column, operator, value, empty=False):
    """Domain on ``model`` for its field that shows ``column`` of its row in ``level_model`` (linked by ``key``):
    the records whose row matches (``operator``, ``value``), and those without a row when the condition holds for
    ``empty``, the value they read as (no level, no date, no reminder). Negative operators: Odoo negates the
    positive one."""
    if operator.startswith("not ") or operator in ("!=", "<>"):
        return NotImplemented
    # sudo: ids of records the caller searches (the level tables are read by everyone through these fields).
    levels = model.env[level_model].sudo()
    domain = Domain("id", "in", levels._search([(column, operator, value)]).subselect(key))
    if operator == "in":
        without_row = any(item in (False, None, empty) for item in value)
    elif operator in INEQUALITIES and empty is not False:
        # As Odoo reads a number's empty value (0) in an inequality: no reminder is fewer than one.
        without_row = INEQUALITIES[operator](empty, value)
    else:
        without_row = False
    if without_row:
        domain |= Domain("id", "not in", levels._search([]).subselect(key))
    return domain
