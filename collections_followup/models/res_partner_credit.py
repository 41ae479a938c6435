from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, format_amount, format_date

from ..engine.behaviour import Invoice, payment_behaviour, propose_limit
from ..engine.credit import AMBER_RATIO, Exposure, credit_check, credit_state

# Credit limits: Odoo's own field, set by Collections Managers and, as in Odoo
# without this addon, by accounting administrators (every change is kept in
# the limit history). Everybody reads them.
LIMIT_FIELDS = frozenset({"credit_limit", "use_partner_credit_limit"})
LIMIT_GROUPS = ("collections_followup.group_collections_manager", "account.group_account_manager")

# Set by the hold wizard (a manager), the follow-up levels and the daily run, and by
# the nightly segmentation: server code only (collections_guard), through every door.
SERVER_FIELDS = frozenset({
    "collections_credit_hold",
    "collections_hold_reason",
    "collections_hold_date",
    "collections_hold_origin",
    "collections_score",
    "collections_segment_id",
    "collections_usual_delay",
    "collections_link_generation",
})

HOLD_ORIGINS = [
    ("manual", "Set by a manager"),
    ("level", "Follow-up level"),
    ("limit", "Credit limit exceeded"),
    ("cash", "Cash only (credit review)"),
]


class ResPartner(models.Model):
    """Credit exposure and credit hold of a customer, per company."""

    _inherit = "res.partner"

    collections_credit_hold = fields.Boolean(
        string="On Credit Hold", company_dependent=True, copy=False,
        help="New sales orders and (if the policy says so) invoices are blocked until a manager releases it.",
    )
    collections_hold_reason = fields.Char(string="Hold Reason", company_dependent=True, copy=False)
    collections_hold_date = fields.Date(string="On Hold Since", company_dependent=True, copy=False)
    collections_hold_origin = fields.Selection(HOLD_ORIGINS, string="Hold Origin", company_dependent=True, copy=False)

    collections_exposure_receivable = fields.Monetary(
        string="Open Receivables", compute="_compute_collections_exposure",
        currency_field="collections_currency_id",
    )
    collections_exposure_draft = fields.Monetary(
        string="Draft Invoices", compute="_compute_collections_exposure",
        currency_field="collections_currency_id",
    )
    collections_exposure_orders = fields.Monetary(
        string="Orders Not Invoiced", compute="_compute_collections_exposure",
        currency_field="collections_currency_id",
    )
    collections_exposure = fields.Monetary(
        string="Credit Exposure", compute="_compute_collections_exposure",
        currency_field="collections_currency_id",
    )
    collections_credit_limit = fields.Monetary(
        string="Applied Credit Limit", compute="_compute_collections_exposure",
        currency_field="collections_currency_id",
        help="The customer's credit limit when the company uses credit limits; 0 means no limit.",
    )
    collections_credit_available = fields.Monetary(
        string="Available Credit", compute="_compute_collections_exposure",
        currency_field="collections_currency_id",
    )
    collections_credit_state = fields.Selection(
        [("red", "Blocked"), ("amber", "Watch")], string="Credit Status",
        compute="_compute_collections_exposure",
    )
    collections_credit_message = fields.Char(compute="_compute_collections_exposure")

    # Credit review: behaviour over the last 12 months and the limit it supports.
    collections_paid_on_time = fields.Float(
        string="Paid On Time (%)", compute="_compute_collections_behaviour", digits=(5, 0),
    )
    collections_avg_days_late = fields.Float(
        string="Avg Days Late", compute="_compute_collections_behaviour", digits=(5, 1),
        help="Days late weighted by amount, over the invoices of the last 12 months.",
    )
    collections_worst_days_late = fields.Integer(string="Worst Delay", compute="_compute_collections_behaviour")
    collections_behaviour_trend = fields.Float(
        string="Trend (days)", compute="_compute_collections_behaviour", digits=(5, 1),
        help="Average days late of the last 3 months minus that of the 9 months before: positive is worse.",
    )
    collections_invoiced_12m = fields.Monetary(
        string="Invoiced (12 months)", compute="_compute_collections_behaviour",
        currency_field="collections_currency_id",
    )
    collections_proposed_limit = fields.Monetary(
        string="Proposed Limit", compute="_compute_collections_behaviour",
        currency_field="collections_currency_id",
    )
    collections_proposed_display = fields.Char(
        string="Proposed", compute="_compute_collections_behaviour",
        help="The proposed limit, or 'Cash only' when the payment history calls for no credit at all.",
    )
    collections_proposed_cash_only = fields.Boolean(
        string="Proposed: Cash Only", compute="_compute_collections_behaviour",
        help="The payment history calls for no credit at all (an invoice paid or still open 90 days late or "
             "more). Approving puts the customer on credit hold, origin 'Cash only': a credit limit of 0 "
             "would mean 'no limit' in Odoo.",
    )
    collections_limit_history_ids = fields.One2many(
        "collections.credit.limit.history", "partner_id", string="Credit Limit History",
        groups="collections_followup.group_collections_user",
    )

    # ------------------------------------------------------------------
    # Exposure
    # ------------------------------------------------------------------

    @api.model
    def _collections_exposures(self, company, partners):
        """{commercial partner id: Exposure}, a fixed number of queries for any number of invoices."""
        items = self.env["collections.ledger"]._open_items(company, partners.ids, pauses=False)
        drafts = self._collections_draft_amounts(company, partners)
        # sudo: amounts of the customer's confirmed orders not invoiced yet (sales rights not required to see exposure).
        orders = partners.sudo().with_company(company)._collections_orders_to_invoice()
        return {
            partner.id: Exposure(
                receivable=sum((item.residual for item in items.get(partner.id, [])), 0),
                draft_invoices=drafts.get(partner.id, 0.0),
                orders=orders.get(partner.id, 0.0),
            )
            for partner in partners
        }

    @api.model
    def _collections_draft_domain(self, company, partners):
        return [
            ("commercial_partner_id", "in", partners.ids),
            *self.env["collections.ledger"]._company_domain(company),
            ("state", "=", "draft"),
            ("move_type", "in", ("out_invoice", "out_refund")),
        ]

    @api.model
    def _collections_draft_amounts(self, company, partners):
        """{commercial partner id: its draft invoices less credit notes, company currency}, one query."""
        # sudo: the customer's draft invoices, summed into its exposure; exposure is shown to salespeople
        # by design (README "Who can do what"), a portal customer reads only its own.
        groups = self.env["account.move"].sudo()._read_group(
            self._collections_draft_domain(company, partners), ["commercial_partner_id"], ["amount_total_signed:sum"])
        return defaultdict(float, {partner.id: amount for partner, amount in groups})

    @api.model
    def _collections_invoice_history(self, company, partners, today):
        """{commercial partner id: [Invoice]} of the last 12 months, in two queries."""
        self.env["account.move"].flush_model()
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        rows = self.env.execute_query(SQL(
            """
            SELECT move.commercial_partner_id, move.id, move.amount_total_signed, move.invoice_date,
                   move.invoice_date_due, move.payment_state, MAX(partial.max_date)
              FROM account_move move
              JOIN account_move_line line ON line.move_id = move.id AND line.display_type = 'payment_term'
         LEFT JOIN account_partial_reconcile partial ON partial.debit_move_id = line.id
             WHERE move.company_id IN %(company)s
               AND move.move_type = 'out_invoice'
               AND move.state = 'posted'
               AND move.invoice_date > %(start)s
               AND move.commercial_partner_id = ANY(%(partners)s)
          GROUP BY move.id
            """,
            company=self.env["collections.ledger"]._company_sql(company), start=today - relativedelta(years=1),
            partners=partners.ids,
        ))
        history = defaultdict(list)
        for partner_id, _move, amount, invoiced, due, payment_state, paid in rows:
            settled = payment_state in ("paid", "in_payment", "reversed")
            history[partner_id].append(Invoice(
                amount=amount, invoice_date=invoiced, due_date=due or invoiced,
                paid_date=(paid or due or invoiced) if settled else None,
            ))
        return history

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_collections_behaviour(self):
        company = self.env.company
        today = fields.Date.context_today(self)
        commercial = self.commercial_partner_id.filtered("id")
        history = self._collections_invoice_history(company, commercial, today) if commercial else {}
        for partner in self:
            behaviour = payment_behaviour(history.get(partner.commercial_partner_id.id, []), today)
            proposal = propose_limit(behaviour)
            partner.collections_paid_on_time = float(behaviour.on_time_share * 100) if behaviour else 0.0
            partner.collections_avg_days_late = float(behaviour.weighted_days_late) if behaviour else 0.0
            partner.collections_worst_days_late = behaviour.worst_days_late if behaviour else 0
            partner.collections_behaviour_trend = float(behaviour.trend) if behaviour else 0.0
            partner.collections_invoiced_12m = float(behaviour.amount) if behaviour else 0.0
            partner.collections_proposed_limit = float(proposal) if proposal is not None else 0.0
            partner.collections_proposed_cash_only = proposal is not None and proposal <= 0
            partner.collections_proposed_display = (
                self.env._("Cash only") if partner.collections_proposed_cash_only
                else format_amount(self.env, float(proposal), company.currency_id) if proposal is not None else ""
            )

    def action_collections_approve_limit(self):
        """Managers: set each customer's credit limit to the proposed one (history kept)."""
        if not self.env.user.has_group("collections_followup.group_collections_manager"):
            raise AccessError(self.env._("Only a Collections Manager can change credit limits."))
        company = self.env.company
        for partner in self.commercial_partner_id.with_company(company):
            proposal = partner.collections_proposed_limit
            if partner.collections_invoiced_12m and partner.collections_proposed_cash_only:
                # No credit at all is a hold, which every check honours; a limit of 0 is "no limit".
                partner._collections_set_hold(
                    self.env._("Cash only: credit review of 12 months of payments"), "cash", company,
                )
                continue
            # sudo: the current limit, compared with the proposal shown to the user who asked for it.
            if partner.collections_invoiced_12m and proposal != partner.sudo().credit_limit:
                partner.with_context(
                    collections_limit_reason=self.env._("Credit review: proposed from 12 months of payments"),
                ).write({"credit_limit": proposal})
        return True

    def _collections_orders_to_invoice(self):
        """{partner id: confirmed orders not yet invoiced, company currency}; sales adds them."""
        return {}

    def _collections_credit_limit(self, company):
        self.ensure_one()
        if not company.account_use_credit_limit:
            return 0.0
        # sudo: the limit is shown on every order and invoice of the customer; reading it needs no accounting rights.
        return self.sudo().with_company(company).credit_limit or 0.0

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_collections_exposure(self):
        company = self.env.company
        commercial = self.commercial_partner_id.filtered("id")
        exposures = self._collections_exposures(company, commercial)
        # The follow-up fields already decided the overdue amount: read them, do not decide twice.
        overdue = {main.id: main.collections_total_overdue for main in commercial}
        for partner in self:
            main = partner.commercial_partner_id
            exposure = exposures.get(main.id) or Exposure(0, 0, 0)
            limit = main._collections_credit_limit(company) if main.id else 0.0
            # sudo: the hold flag is what sales must always see (the debt behind it stays behind access rights).
            hold = main.with_company(company).sudo().collections_credit_hold
            partner.collections_exposure_receivable = float(exposure.receivable)
            partner.collections_exposure_draft = float(exposure.draft_invoices)
            partner.collections_exposure_orders = float(exposure.orders)
            partner.collections_exposure = float(exposure.total)
            partner.collections_credit_limit = limit
            partner.collections_credit_available = limit - float(exposure.total) if limit else 0.0
            partner.collections_credit_state = credit_state(
                limit, exposure.total, overdue.get(main.id, 0), on_hold=hold,
            ) or False
            partner.collections_credit_message = main._collections_credit_banner(
                company, limit, exposure.total, overdue.get(main.id, 0), hold,
            )

    def _collections_credit_banner(self, company, limit, exposure, overdue, hold):
        currency = company.currency_id
        if hold:
            # sudo: who placed the hold and why, in the banner salespeople read on the customer's documents.
            main = self.sudo().with_company(company)
            return self.env._(
                "On credit hold since %(date)s: %(reason)s",
                date=format_date(self.env, main.collections_hold_date), reason=main.collections_hold_reason or "",
            )
        if limit and exposure > limit:
            return self.env._(
                "Over its credit limit: exposure %(exposure)s for a limit of %(limit)s.",
                exposure=format_amount(self.env, float(exposure), currency),
                limit=format_amount(self.env, limit, currency),
            )
        parts = []
        if limit and exposure >= limit * float(AMBER_RATIO):
            parts.append(self.env._(
                "%(ratio)s%% of its credit limit used (%(exposure)s of %(limit)s).",
                ratio=int(float(exposure) * 100 / limit),
                exposure=format_amount(self.env, float(exposure), currency),
                limit=format_amount(self.env, limit, currency),
            ))
        if overdue > 0:
            parts.append(self.env._(
                "%(amount)s overdue.", amount=format_amount(self.env, float(overdue), currency),
            ))
        return " ".join(parts) or False

    # ------------------------------------------------------------------
    # Checks used by documents (sales orders, invoices)
    # ------------------------------------------------------------------

    def _collections_credit_check(self, company, amount, policy=None, exclude_draft=0.0):
        """CreditCheck for a new document of ``amount`` (company currency)."""
        self.ensure_one()
        main = self.commercial_partner_id
        exposure = self._collections_exposures(company, main)[main.id]
        if policy is None:
            policy = main.with_company(company)._collections_policy(company)
        return credit_check(
            main._collections_credit_limit(company),
            float(exposure.total) - exclude_draft,
            amount,
            # sudo: the hold flag, read to decide whether the document is blocked.
            on_hold=main.sudo().with_company(company).collections_credit_hold,
            block_over_limit=policy.credit_limit_mode == "block",
        )

    def _collections_policy(self, company):
        """The customer's policy: chosen by hand, else its segment's, else the company's default."""
        # sudo: which policy applies is configuration, read to decide (not returned to the user).
        main = self.commercial_partner_id.sudo()
        policy_id = main._collections_policy_ids(company).get(main.id)
        return self.env["collections.policy"].sudo().browse(policy_id).exists() \
            or self.env["collections.policy"].sudo()._get_default_policy(company)

    def _collections_credit_error(self, company, check, document):
        """The sentence a blocked user reads: what, how much, why, who can release it."""
        # sudo: the customer's limit, exposure and hold reason, written into the refusal its user reads.
        main = self.commercial_partner_id.sudo().with_company(company)
        currency = company.currency_id
        if check.reason == "hold":
            why = self.env._(
                "%(customer)s is on credit hold since %(date)s (%(reason)s).",
                customer=main.display_name, date=format_date(self.env, main.collections_hold_date),
                reason=main.collections_hold_reason or self.env._("no reason given"),
            )
        else:
            why = self.env._(
                "%(customer)s would owe %(exposure)s with this document, over its credit limit of "
                "%(limit)s by %(excess)s.",
                customer=main.display_name,
                exposure=format_amount(self.env, float(check.exposure_after), currency),
                limit=format_amount(self.env, float(check.limit), currency),
                excess=format_amount(self.env, float(check.excess), currency),
            )
        return self.env._(
            "%(document)s is blocked: %(why)s A Collections Manager can release the hold or "
            "override it for this document.",
            document=document, why=why,
        )
