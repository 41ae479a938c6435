from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import Ladder, Reason, decide_partner
from ..engine.plans import kept_rate

STATUSES = [
    ("action", "Action Due"),
    ("waiting", "Waiting"),
    ("none", "Nothing Due"),
    ("excluded", "Excluded"),
]


class LazyTrace:
    """The reasons of a decision (PartnerDecision.trace), worked out the first time they are read:
    the engine's explained call on the same items, with the policy and which rule chose it."""

    __slots__ = ("_args", "_trace")

    def __init__(self, ladder, items, today, postponed_until, excluded, policy, own_policy, segment):
        self._args = (ladder, items, today, postponed_until, excluded, policy, own_policy, segment)
        self._trace = None

    def __bool__(self):
        return True

    def __iter__(self):
        return iter(self.trace)

    def __getitem__(self, index):
        return self.trace[index]

    def __len__(self):
        return len(self.trace)

    @property
    def trace(self):
        if self._trace is None:
            ladder, items, today, postponed_until, excluded, policy, own_policy, segment = self._args
            head, *rest = decide_partner(ladder, items, today, postponed_until=postponed_until,
                                         excluded=excluded, explain=True).trace
            # Which of the three rules of _collections_policy_ids gave the policy.
            source = "default"
            if own_policy:
                source = "customer"
            elif segment and segment.policy_id == policy:
                source = "segment"
            self._trace = (head, Reason("policy", {
                "policy": policy.name or "", "chosen_by": source,
                "segment": segment.name if source == "segment" else "",
            }), *rest)
        return self._trace


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Stored per company (company-dependent), set by people.
    collections_user_id = fields.Many2one(
        "res.users", string="Collector", company_dependent=True, copy=False,
        domain="[('share', '=', False)]",
        help="Collector in charge of this customer; receives its call and review tasks.",
    )
    collections_policy_id = fields.Many2one(
        "collections.policy", string="Follow-up Policy", company_dependent=True, copy=False,
        domain="[('company_id', '=', current_company_id)]",
        help="Leave empty to use the company's default policy.",
    )
    collections_excluded = fields.Boolean(
        string="Do Not Follow Up", company_dependent=True, copy=False,
        help="No reminder of any kind is sent to this customer.",
    )
    collections_postponed_until = fields.Date(
        string="Postponed Until", company_dependent=True, copy=False,
    )
    collections_postpone_reason = fields.Char(
        string="Postponement Reason", company_dependent=True, copy=False,
    )

    # The customer's own choice, whatever the company: never contacted on these channels.
    collections_no_email = fields.Boolean(
        string="No Reminder Emails", copy=False,
        help="The customer asked not to receive payment reminders by email (Odoo's email blacklist is respected too).",
    )
    collections_no_sms = fields.Boolean(
        string="No SMS", copy=False,
        help="The customer asked not to receive text messages (Odoo's phone blacklist is respected too).",
    )
    collections_no_call = fields.Boolean(
        string="No Calls", copy=False, help="The customer asked not to be called about payments.",
    )
    collections_no_letter = fields.Boolean(
        string="No Letters", copy=False, help="The customer asked not to receive reminder letters by post.",
    )
    # On a contact of the customer: who receives its follow-ups (not company-dependent: an address).
    collections_followup_role = fields.Selection(
        [("to", "Follow-up Recipient"), ("cc", "Follow-up Copy")], string="Follow-ups",
        help="Follow-up Recipient: the customer's payment reminders, plans and statements go to this contact "
             "(before its invoice address). Follow-up Copy: this contact receives a copy of each.",
    )

    # Set every night from the payment behaviour (collections.segment).
    collections_score = fields.Integer(
        string="Payment Score", company_dependent=True, copy=False, readonly=True,
        help="0 (worst) to 100 (best), from the last 12 months: share paid on time, days late weighted by "
             "amount, trend, broken promises and disputes.",
    )
    collections_segment_id = fields.Many2one(
        "collections.segment", string="Segment", company_dependent=True, copy=False, readonly=True,
    )
    collections_usual_delay = fields.Integer(
        string="Usual Delay, 12 Months (days)", company_dependent=True, copy=False, readonly=True,
        help="Days late the customer paid its invoices of the last 12 months, weighted by amount (its score and "
             "segment are made of it). The cash forecast's sentence on this tab weighs two years of history, recent "
             "invoices more.",
    )

    # Computed from the ledger each time they are read, for the current company.
    collections_status = fields.Selection(
        STATUSES, string="Follow-up Status", compute="_compute_collections",
        search="_search_collections_status",
    )
    collections_effective_policy_id = fields.Many2one(
        "collections.policy", string="Applied Policy", compute="_compute_collections",
    )
    collections_level_id = fields.Many2one(
        "collections.level", string="Current Level", compute="_compute_collections",
        search="_search_collections_level_id",
        help="Highest level reached by the customer's open invoices.",
    )
    collections_next_level_id = fields.Many2one(
        "collections.level", string="Next Level", compute="_compute_collections",
        help="Level the next follow-up will be sent at.",
    )
    collections_next_action_date = fields.Date(
        string="Next Action", compute="_compute_collections",
    )
    collections_currency_id = fields.Many2one(
        "res.currency", compute="_compute_collections",
    )
    collections_total_due = fields.Monetary(
        string="Total Due", compute="_compute_collections", currency_field="collections_currency_id",
    )
    collections_total_overdue = fields.Monetary(
        string="Total Overdue", compute="_compute_collections", currency_field="collections_currency_id",
        help="Overdue invoices less the unapplied credits (credit notes and payments not matched yet): "
             "what the customer really owes late.",
    )
    collections_total_credits = fields.Monetary(
        string="Unapplied Credits", compute="_compute_collections", currency_field="collections_currency_id",
        help="Credit notes, payments and other credits on the customer's receivable not matched to an "
             "invoice yet. Reminders deduct them from what they ask for.",
    )
    collections_oldest_days_late = fields.Integer(
        string="Days Late", compute="_compute_collections",
        help="Days since the due date of the oldest overdue invoice.",
    )
    collections_why = fields.Html(
        string="Why", compute="_compute_collections_why", sanitize=False, groups="base.group_user",
        help="Why the customer is at this status: each rule the follow-up checked, with its values.",
    )
    collections_why_short = fields.Char(
        string="Reason", compute="_compute_collections_why_short", groups="base.group_user",
        help="Why the customer is at this status, in one sentence.",
    )
    collections_action_count = fields.Integer(compute="_compute_collections_action_count")
    # A collection agency (a partner the company places debts with).
    collections_is_agency = fields.Boolean(string="Collection Agency")
    collections_agency_commission = fields.Float(
        string="Agency Commission (%)", digits=(16, 2), help="Share of the amounts recovered the agency keeps.",
    )
    collections_agency_fixed_fee = fields.Monetary(
        string="Agency Fee per Case", currency_field="collections_currency_id",
    )
    collections_plan_count = fields.Integer(compute="_compute_collections_arrangements")
    collections_promise_count = fields.Integer(compute="_compute_collections_arrangements")
    collections_promise_kept_rate = fields.Float(
        string="Promises Kept (%)", compute="_compute_collections_arrangements", digits=(5, 1),
        help="Share of the customer's settled promises to pay that were kept (kept / (kept + broken)).",
    )
    # Read by the reminder templates (which may not call private methods).
    collections_company_id = fields.Many2one(
        "res.company", compute="_compute_collections_company_id",
        help="Company whose receivables the reminder is about.",
    )
    @api.depends_context("company")
    def _compute_collections_arrangements(self):
        commercial = self.commercial_partner_id
        company = self.env.company
        # sudo: counts only (smart buttons), of partners the user may already read.
        plans = dict(self.env["collections.payment.plan"].sudo()._read_group(
            [("partner_id", "in", commercial.ids), ("company_id", "=", company.id)], ["partner_id"], ["__count"],
        ))
        promises = defaultdict(lambda: defaultdict(int))
        for partner, state, count in self.env["collections.promise"].sudo()._read_group(
            [("partner_id", "in", commercial.ids), ("company_id", "=", company.id)],
            ["partner_id", "state"], ["__count"],
        ):
            promises[partner.id][state] = count
        for partner in self:
            key = partner.commercial_partner_id
            counts = promises[key.id]
            partner.collections_plan_count = plans.get(key, 0)
            partner.collections_promise_count = sum(counts.values())
            rate = kept_rate(counts["kept"], counts["broken"])
            partner.collections_promise_kept_rate = float(rate) if rate is not None else 0.0

    # ------------------------------------------------------------------
    # Decisions
    # ------------------------------------------------------------------

    def _collections_decide(self, company=None, today=None, items=None, explain=False):
        """{partner: (policy, PartnerDecision)} for these commercial partners.

        ``items``: their open items when the caller already read them (collections.ledger._open_items).
        ``explain``: True for the reasons of every decision (``trace``, with the policy and why it
        applies), "action" for those of the customers with a level due only (the run: the others are
        decided without them, at full speed)."""
        company = company or self.env.company
        today = today or fields.Date.context_today(self)
        if items is None:
            items = self.env["collections.ledger"]._open_items(company, self.ids)
        # sudo: policies, levels and segments are configuration read to decide; what the decision
        # yields (status, amounts) is shown to internal users by design and to a portal customer
        # only for its own account (Odoo's portal rule on res.partner).
        Policy = self.env["collections.policy"].sudo()
        default_policy = Policy._get_default_policy(company)
        settings = self._collections_settings(company)
        chosen = self._collections_policy_ids(company, settings, default_policy)
        policies = Policy.browse((set(chosen.values()) | set(default_policy.ids)) - {False, None}).exists()
        ladders = {policy.id: Ladder(policy.level_ids._to_engine()) for policy in policies}
        no_levels = Ladder([])
        records = {policy_id: Policy.browse(policy_id) for policy_id in set(chosen.values()) | {default_policy.id}}
        no_settings = (None, None, None, False)
        result = {}
        for partner_id in self.ids:
            own_policy, segment_id, postponed_until, excluded = settings.get(partner_id, no_settings)
            policy_id = chosen.get(partner_id, default_policy.id)
            ladder, open_items = ladders.get(policy_id, no_levels), items.get(partner_id, ())
            decision = decide_partner(ladder, open_items, today, postponed_until=postponed_until,
                                      excluded=excluded)
            if explain is True or (explain == "action" and decision.status == "action"):
                # The same call with its reasons, made when they are read (the run reads them only for
                # the customers it logs, after deciding the whole book at full speed).
                segment = Policy.env["collections.segment"].with_company(company).browse(segment_id)
                decision = decision._replace(trace=LazyTrace(
                    ladder, open_items, today, postponed_until, excluded, records[policy_id], own_policy, segment,
                ))
            result[partner_id] = (records[policy_id], decision)
        return result

    def _collections_policy_ids(self, company, settings=None, default_policy=None):
        """{partner id: policy id} of these commercial partners in ``company``: the one rule of which
        policy applies (chosen by hand, else its segment's, else the company's default), used by the
        run, every screen and _collections_policy(). ``settings``/``default_policy``: when the caller
        already read them."""
        if settings is None:
            settings = self._collections_settings(company)
        if default_policy is None:
            # sudo: which policy applies is configuration, read to decide.
            default_policy = self.env["collections.policy"].sudo()._get_default_policy(company)
        # sudo: the segments' policies, configuration read to decide.
        segments = self.env["collections.segment"].sudo().with_company(company).browse(
            {row[1] for row in settings.values() if row[1]})
        segment_policy = {
            segment.id: segment.policy_id.id for segment in segments if segment.policy_id.company_id == company
        }
        return {
            pid: policy_id or segment_policy.get(segment_id) or default_policy.id
            for pid, (policy_id, segment_id, _until, _excluded) in settings.items()
        }

    def _collections_settings(self, company):
        """{partner id: (policy id, segment id, postponed until, excluded)} of these partners in
        ``company``, read with one query (on a large book the ORM read of these per-company
        fields cost more than the decision itself: make bench). The value set for the company,
        else the field's company default (ir.default), as Odoo reads them."""
        if not self.ids:
            return {}
        self.flush_model(["collections_policy_id", "collections_segment_id", "collections_postponed_until",
                          "collections_excluded"])
        key = str(company.id)
        columns = []
        in_company = self.with_company(company)
        for name, cast in (("collections_policy_id", "int"), ("collections_segment_id", "int"),
                           ("collections_postponed_until", "date"), ("collections_excluded", "boolean")):
            # Odoo's own fallback of a company-dependent field (ir.default, cached by Odoo).
            fallback = self._fields[name].get_company_dependent_fallback(in_company)
            if isinstance(fallback, models.BaseModel):
                fallback = fallback.id
            columns.append(SQL(
                "COALESCE((%s ->> %s)::%s, %s::%s)", SQL.identifier(name), key, SQL(cast),
                fallback if fallback not in (None, False) else None, SQL(cast),
            ))
        rows = self.env.execute_query(SQL(
            "SELECT id, %s FROM res_partner WHERE id = ANY(%s)", SQL(", ").join(columns), self.ids,
        ))
        return {pid: (policy_id, segment_id, until, bool(excluded))
                for pid, policy_id, segment_id, until, excluded in rows}

    @api.depends_context("company", "uid")
    @api.depends("commercial_partner_id")
    def _compute_collections(self):
        company = self.env.company
        commercial = self.commercial_partner_id
        decisions = commercial.filtered("id")._collections_decide(company)
        Level = self.env["collections.level"]
        max_reached = self._collections_reached_levels(company, commercial)
        for partner in self:
            policy, decision = decisions.get(partner.commercial_partner_id.id, (False, None))
            partner.collections_effective_policy_id = policy
            partner.collections_currency_id = company.currency_id
            if decision is None:
                partner.collections_status = "none"
                partner.collections_level_id = False
                partner.collections_next_level_id = False
                partner.collections_next_action_date = False
                partner.collections_total_due = 0.0
                partner.collections_total_overdue = 0.0
                partner.collections_total_credits = 0.0
                partner.collections_oldest_days_late = 0
                continue
            partner.collections_status = decision.status
            partner.collections_level_id = max_reached.get(partner.commercial_partner_id.id, Level)
            partner.collections_next_level_id = Level.browse(decision.level_id)
            partner.collections_next_action_date = decision.next_action_date
            partner.collections_total_due = float(decision.total_due)
            partner.collections_total_overdue = float(decision.net_overdue)
            partner.collections_total_credits = float(decision.total_credits)
            partner.collections_oldest_days_late = decision.oldest_days_late

    @api.model
    def _collections_reached_levels(self, company, partners):
        """{commercial_partner_id: highest level reached by an open invoice}."""
        if not partners.ids:
            return {}
        # sudo: levels reached by the invoices of partners the caller already holds.
        groups = self.env["account.move"].sudo()._read_group(
            [
                ("commercial_partner_id", "in", partners.ids),
                *self.env["collections.ledger"]._company_domain(company),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("collections_level_id", "!=", False),
            ],
            ["commercial_partner_id", "collections_level_id"],
        )
        best = {}
        for partner, level in groups:
            current = best.get(partner.id)
            if not current or level.delay > current.delay:
                best[partner.id] = level
        return {pid: level.with_env(self.env) for pid, level in best.items()}

    def _search_collections_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            return NotImplemented
        values = {value} if isinstance(value, str) or not value else set(value)
        company = self.env.company
        items = self.env["collections.ledger"]._open_items(company)
        candidates = self.browse(list(items)).exists()
        decisions = candidates._collections_decide(company)
        matching = [pid for pid, (_policy, decision) in decisions.items() if decision.status in values]
        if "none" in values:
            # Customers without open items have nothing due.
            others = [pid for pid, (_policy, decision) in decisions.items() if decision.status not in values]
            positive = operator in ("=", "in")
            return [("commercial_partner_id", "not in" if positive else "in", others)]
        positive = operator in ("=", "in")
        return [("commercial_partner_id", "in" if positive else "not in", matching)]

    def _search_collections_level_id(self, operator, value):
        """Customers with an open invoice at the given level(s)."""
        if operator not in ("in", "=", "any"):
            return NotImplemented
        if operator == "any":
            level_domain = value
        else:
            level_domain = [("id", "in", [value] if isinstance(value, int) else list(value))]
        # sudo: a search domain (partner ids), no invoice data goes back to the caller.
        moves = self.env["account.move"].sudo()._search([
            ("company_id", "=", self.env.company.id),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("collections_level_id", "any", level_domain),
        ])
        return [("id", "in", moves.subselect("commercial_partner_id"))]

    def _compute_collections_action_count(self):
        counts = dict(self.env["collections.action"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids), ("company_id", "=", self.env.company.id)],
            ["partner_id"], ["__count"],
        )) if self.env["collections.action"].has_access("read") else {}
        for partner in self:
            partner.collections_action_count = counts.get(partner.commercial_partner_id, 0)

    @api.depends_context("company")
    def _compute_collections_company_id(self):
        self.collections_company_id = self.env.company
