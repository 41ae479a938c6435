from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from ..engine.behaviour import behaviour_score, payment_behaviour, segment_for, usual_delay
from .collections_guard import server


class CollectionsSegment(models.Model):
    """A payment-behaviour segment: customers whose score reaches its minimum
    (and not the next segment's) belong to it and get its follow-up policy.

    Why its sudo() calls are safe: only the nightly scheduled job uses them, per
    company, to read invoice history, promises and disputes and to write each
    customer's score and segment; nothing it reads is returned to a user."""

    _name = "collections.segment"
    _description = "Payment Behaviour Segment"
    _order = "min_score desc, id"

    name = fields.Char(required=True, translate=True)
    min_score = fields.Integer(string="Minimum Score", required=True, help="0 to 100.")
    policy_id = fields.Many2one(
        "collections.policy", string="Follow-up Policy", company_dependent=True,
        help="Policy of the segment's customers in this company (a policy chosen on the customer wins). "
             "Empty: the company's default policy.",
    )
    active = fields.Boolean(default=True)

    _check_score = models.Constraint("CHECK (min_score BETWEEN 0 AND 100)", "A minimum score is from 0 to 100.")

    @api.model
    def _cron_segment_customers(self):
        """Nightly: score every customer invoiced in the last 12 months and place it in its segment."""
        today = fields.Date.context_today(self)
        for company in self.env["collections.policy"]._followed_companies():
            self.sudo().with_company(company)._segment_company(company, today)

    @api.model
    def _segment_company(self, company, today):
        Partner = self.env["res.partner"].sudo().with_company(company)
        since = today - relativedelta(years=1)
        partner_ids = {row[0] for row in self.env["account.move"].sudo()._read_group(
            [*self.env["collections.ledger"]._company_domain(company), ("move_type", "=", "out_invoice"),
             ("state", "=", "posted"),
             ("invoice_date", ">", since)],
            ["commercial_partner_id"],
        )}
        partners = Partner.browse([p.id for p in partner_ids])
        if not partners:
            return
        history = Partner._collections_invoice_history(company, partners, today)
        broken = dict(self.env["collections.promise"].sudo()._read_group(
            [("company_id", "=", company.id), ("state", "=", "broken"), ("closed_date", ">", since)],
            ["partner_id"], ["__count"],
        ))
        disputes = dict(self.env["collections.dispute"].sudo()._read_group(
            [("company_id", "=", company.id), ("opened_date", ">", since)], ["partner_id"], ["__count"],
        ))
        segments = self.search([], limit=100)  # a handful by nature
        thresholds = [(segment.min_score, segment.id) for segment in segments]
        groups = defaultdict(list)
        for partner in partners:
            behaviour = payment_behaviour(history.get(partner.id, []), today)
            score = behaviour_score(
                behaviour, broken_promises=broken.get(partner, 0), disputes=disputes.get(partner, 0),
            )
            segment_id = segment_for(score, thresholds) if thresholds else None
            delay = usual_delay(behaviour)
            groups[score if score is not None else 0, segment_id or False, delay].append(partner.id)
        # One write per (score, segment, delay): a few hundred writes at most for any number of customers.
        for (score, segment_id, delay), ids in groups.items():
            server(Partner.browse(ids)).write({
                "collections_score": score, "collections_segment_id": segment_id, "collections_usual_delay": delay,
            })
