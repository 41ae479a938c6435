from odoo import fields, models


class CollectionsRunPosition(models.Model):
    """Where a worker of the daily run is in its pass over the day's customers, while the pass is under way.

    Odoo runs a scheduled action in slices (ir.cron._commit_progress says when a slice's time is up, then calls
    the action again): without this, each call decided every customer again to find where it had stopped, which
    on a large book cost more than the sending. A worker goes round the customers in the order of their ids
    from its pivot (the first customer for the first worker, the one halfway for the second); ``last_partner_id``
    is the last customer it has decided and, when due, handled, written in the transaction of the batch that
    handled it. The record is removed when the pass is over, so that a later run the same day (Run Follow-ups
    Now) goes round again."""

    _name = "collections.run.position"
    _description = "Follow-up Run Position"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    start = fields.Float(required=True, help="The worker's start (collections.run._cron_run_followups).")
    day = fields.Date(required=True)
    pivot_partner_id = fields.Integer(required=True, help="The customer id the worker's pass began at.")
    last_partner_id = fields.Integer(help="The last customer id of the pass decided, and handled when due.")

    _worker_unique = models.UniqueIndex("(company_id, start)", "One position per worker of the run and company.")

    def _key(self, partner_id):
        """The rank of ``partner_id`` in this pass: from the pivot upwards, then round from the lowest id."""
        return (partner_id < self.pivot_partner_id, partner_id)

    def _remaining(self, ordered):
        """Of ``ordered`` (sorted customer ids), those this pass has yet to reach, in its order."""
        after = [pid for pid in ordered if pid >= self.pivot_partner_id] + \
            [pid for pid in ordered if pid < self.pivot_partner_id]
        if not self.last_partner_id:
            return after
        last = self._key(self.last_partner_id)
        return [pid for pid in after if self._key(pid) > last]

    def _reached(self, partner_ids):
        """The pass has decided (and handled when due) ``partner_ids``: move past the last of them."""
        if partner_ids:
            last = max(partner_ids, key=self._key)
            if not self.last_partner_id or self._key(last) > self._key(self.last_partner_id):
                self.last_partner_id = last
