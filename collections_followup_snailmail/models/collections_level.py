from odoo import api, fields, models


class CollectionsLevel(models.Model):
    _inherit = "collections.level"

    post_letter = fields.Boolean(
        string="Post with Snailmail", compute="_compute_post_letter", store=True, readonly=False,
        help="The follow-up run hands the letter it makes to Odoo's Snailmail, which posts it on its next daily "
             "round (a scheduled action); each letter costs IAP credits. The post room no longer prints it. When "
             "Snailmail cannot post it (no credit left, an incomplete address, a PDF it refuses), the Collections "
             "Log entry of the letter shows Snailmail's error: Snailmail tries again once credits are bought or "
             "the address is completed; a letter cancelled in Snailmail is printed with the others.",
    )
    snailmail_color = fields.Boolean(
        string="Post in Colour", default=lambda self: self.env.company.snailmail_color,
        help="Snailmail prints the letter in colour (dearer); else in black and white.",
    )
    snailmail_duplex = fields.Boolean(
        string="Post on Both Sides", default=lambda self: self.env.company.snailmail_duplex,
        help="Snailmail prints on both sides of the sheet.",
    )

    @api.depends("print_letter")
    def _compute_post_letter(self):
        # A level that prints no letter has nothing to post.
        for level in self:
            if not level.print_letter:
                level.post_letter = False
