from odoo import fields, models
from odoo.tools import SQL


class CollectionsAction(models.Model):
    _inherit = "collections.action"

    # Set by the run when it hands the letter to Snailmail (readonly: the guard refuses it to every
    # create, write and copy that is not the server's own).
    snailmail_letter_id = fields.Many2one(
        "snailmail.letter", readonly=True, copy=False, index="btree_not_null",
        ondelete="set null",
    )
    # Snailmail's own record of the posting, read live (related fields are read as superuser).
    snailmail_state = fields.Selection(
        related="snailmail_letter_id.state", string="Snailmail Status",
        help="In Queue: Snailmail posts the letter on its next round. Sent: posted. Error: Snailmail could not post "
             "it (see the message). Cancelled: not posted; the letter is printed with the others.",
    )
    snailmail_error_code = fields.Selection(related="snailmail_letter_id.error_code", string="Snailmail Error")
    snailmail_info = fields.Html(related="snailmail_letter_id.info_msg", string="Snailmail Information")

    def _collections_link_snailmail(self, letter):
        """Link this letter entry to the Snailmail letter that posts it: the run's own code, in the
        transaction that made both. Like the mail queue's delivery report (``_mark_undelivered``),
        the one change made to an entry after it was written, so below the log's refusing write()."""
        self.ensure_one()
        self.flush_recordset()
        self.env.cr.execute(SQL(
            "UPDATE collections_action SET snailmail_letter_id = %s WHERE id = %s AND snailmail_letter_id IS NULL",
            letter.id, self.id,
        ))
        self.invalidate_recordset(["snailmail_letter_id"])

    def _collections_letters_to_print(self):
        # The letters Snailmail posts are not printed as well, unless they were cancelled in Snailmail.
        return super()._collections_letters_to_print().filtered(
            lambda entry: not entry.snailmail_letter_id or entry.snailmail_letter_id.state == "canceled"
        )
