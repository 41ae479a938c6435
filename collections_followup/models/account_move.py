from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    collections_level_id = fields.Many2one(
        "collections.level", string="Follow-up Level", readonly=True, copy=False,
        index="btree_not_null",
        help="Last follow-up level reached by this invoice.",
    )
    collections_reminder_count = fields.Integer(string="Reminders Sent", readonly=True, copy=False)
    collections_last_reminder_date = fields.Date(string="Last Reminder", readonly=True, copy=False)
    collections_action_ids = fields.Many2many(
        "collections.action", "collections_action_account_move_rel", "move_id", "action_id",
        string="Follow-up Actions", readonly=True, copy=False,
        groups="account.group_account_invoice",
    )
