from odoo import models


class CollectionsSend(models.AbstractModel):
    _inherit = "collections.send"

    def _make_letter(self, partner, policy, level, decision, origin, today, fees=()):
        entry = super()._make_letter(partner, policy, level, decision, origin, today, fees)
        if level.post_letter and entry.state == "done" and entry.attachment_id:
            entry._collections_link_snailmail(self._queue_snailmail(partner, level, entry))
        return entry

    def _letter_note(self, level):
        if level.post_letter:
            return self.env._("Follow-up letter (%s) handed to Snailmail, which posts it.", level.name)
        return super()._letter_note(level)

    def _queue_snailmail(self, partner, level, entry):
        """The Snailmail letter of the letter PDF of ``entry``, queued: Odoo's own scheduled action
        posts it, after this transaction commits (nothing is sent to IAP here, so a run killed before
        it commits leaves neither the entry nor the letter, and never posts twice).

        sudo, as the rest of the run: the letter concerns the customer being followed up only."""
        letter = self.env["snailmail.letter"].sudo().create({
            "model": "res.partner",
            "res_id": partner.id,
            "partner_id": partner.commercial_partner_id.id,
            "attachment_id": entry.attachment_id.id,
            "company_id": entry.company_id.id,
            "user_id": self.env.uid,
            "color": level.snailmail_color,
            "duplex": level.snailmail_duplex,
            "cover": False,  # the letter prints the address where window envelopes show it
        })
        # Not immediate: only flags an address Snailmail cannot post to (its error shows at once).
        letter._snailmail_print(immediate=False)
        return letter
