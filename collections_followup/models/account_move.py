import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..engine.behaviour import predicted_payment_date
from .collections_guard import check_protected
from .collections_item_level import level_sql, search_level

# The customer invoices by payment reference, its spaces aside: a payment seen in the bank whose label names one is
# looked up by it (collections_payment_seen); Odoo's own index on the field is a trigram one, made only where
# pg_trgm is installed.
PAYMENT_REFERENCE_INDEX = "collections_account_move_payment_reference"

# Set by the run, the wizards and the fee rules only (collections_guard): never through create/write/import.
PROTECTED_FIELDS = frozenset({
    "collections_level_id",
    "collections_reminder_count",
    "collections_last_reminder_date",
    "collections_action_ids",
    "collections_deferred_until",
    "collections_defer_reason",
    "collections_fee_source",
})


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "collections.override.mixin"]

    def _auto_init(self):
        result = super()._auto_init()
        create_index(self.env.cr, PAYMENT_REFERENCE_INDEX, self._table, ["replace(payment_reference, ' ', '')"],
                     where="move_type = 'out_invoice' AND payment_reference IS NOT NULL")
        return result

    # The invoice's follow-up summary, kept in the addon's own narrow table (collections_invoice_level), not on the
    # accounting row: read, searched, sorted and grouped by here (_field_to_sql).
    collections_level_id = fields.Many2one(
        "collections.level", string="Follow-up Level", compute="_compute_collections_level",
        search="_search_collections_level_id", help="Last follow-up level reached by this invoice.",
    )
    collections_reminder_count = fields.Integer(string="Reminders Sent", compute="_compute_collections_level",
                                                search="_search_collections_reminder_count")
    collections_last_reminder_date = fields.Date(string="Last Reminder", compute="_compute_collections_level",
                                                 search="_search_collections_last_reminder_date")
    collections_action_ids = fields.Many2many(
        "collections.action", "collections_action_account_move_rel", "move_id", "action_id",
        string="Follow-up Actions", readonly=True, copy=False,
        groups="account.group_account_invoice",
    )

    collections_deferred_until = fields.Date(
        string="Follow-up Deferred Until", readonly=True, copy=False, tracking=True, index="btree_not_null",
        help="No reminder about this invoice before this date (set with Defer Follow-up).",
    )
    collections_defer_reason = fields.Char(string="Deferral Reason", readonly=True, copy=False)

    collections_fee_source = fields.Boolean(
        string="Late Fee Invoice", readonly=True, copy=False,
        help="Invoice of late fees or plan charges made by Collections: no fee is charged on it, "
             "and a credit hold does not stop it.",
    )

    collections_credit_hold = fields.Boolean(
        string="Customer on Credit Hold", compute="_compute_collections_credit_hold",
    )

    collections_why = fields.Text(
        string="Follow-up Reason", compute="_compute_collections_why", groups="base.group_user",
        help="Where this invoice stands in its customer's follow-up today and why: the rule that holds it "
             "back or lets it reach its next level, with its values.",
    )

    collections_predicted_date = fields.Date(
        string="Expected Payment", compute="_compute_collections_predicted_date",
        help="When it is expected to be paid, if it is (Cash Forecast: from the customer's paid history and the "
             "invoice's age, rebuilt nightly); before the first forecast, the due date plus the customer's usual "
             "delay. Never before today; empty when the invoice is paid.",
    )

    # Where the invoice stands in Collections, for whoever may read the invoice (badges on the form,
    # filters in the list): each from the open dispute, plan, promise or case that lists the invoice.
    collections_dispute_state = fields.Selection(
        [("open", "Disputed"), ("review", "Dispute Under Review")], string="Dispute",
        compute="_compute_collections_standing", search="_search_collections_dispute_state",
    )
    collections_plan_state = fields.Selection(
        [("proposed", "Payment Plan Proposed"), ("active", "In a Payment Plan")], string="Payment Plan",
        compute="_compute_collections_standing", search="_search_collections_plan_state",
    )
    collections_promised_date = fields.Date(
        string="Payment Promised For", compute="_compute_collections_standing",
        search="_search_collections_promised_date",
        help="The date of the customer's open promise to pay this invoice.",
    )
    collections_case_state = fields.Selection(
        [("agency_proposed", "Agency Proposed"), ("agency_open", "With a Collection Agency"),
         ("legal_proposed", "Legal Action Proposed"), ("legal_open", "In Legal Action")],
        string="Escalation", compute="_compute_collections_standing", search="_search_collections_case_state",
    )

    def _collections_standing_records(self, model, states):
        """The records of ``model`` in ``states`` that list one of these invoices, most recent first.

        sudo: a status of the invoice (no amount, no text of the record) for whoever may read it; the
        records themselves stay behind their own access rules."""
        return self.env[model].sudo().search(
            [("state", "in", list(states)), ("move_ids", "in", self.ids)], order="id desc",
        )

    def _compute_collections_standing(self):
        values = {move.id: {
            "collections_dispute_state": False, "collections_plan_state": False,
            "collections_promised_date": False, "collections_case_state": False,
        } for move in self}
        invoices = self.filtered(lambda move: isinstance(move.id, int) and move.is_sale_document(include_receipts=True))
        if invoices:
            # Reversed, so that the most recent record of each kind is written last and kept.
            for dispute in reversed(invoices._collections_standing_records("collections.dispute", ("open", "review"))):
                for move in dispute.move_ids & invoices:
                    values[move.id]["collections_dispute_state"] = dispute.state
            for plan in reversed(invoices._collections_standing_records("collections.payment.plan",
                                                                        ("proposed", "active"))):
                for move in plan.move_ids & invoices:
                    values[move.id]["collections_plan_state"] = plan.state
            for promise in reversed(invoices._collections_standing_records("collections.promise", ("open",))):
                for move in promise.move_ids & invoices:
                    values[move.id]["collections_promised_date"] = promise.promised_date
            for case in reversed(invoices._collections_standing_records("collections.case", ("proposed", "open"))):
                for move in case.move_ids & invoices:
                    values[move.id]["collections_case_state"] = f"{case.case_type}_{case.state}"
        for move in self:
            move.update(values[move.id])

    def _collections_search_standing(self, operator, value, model, states, positive_domain):
        """Domain of the invoices whose standing from ``model`` records in ``states`` matches ``operator``
        and ``value``. Odoo hands a search method ``in``/``not in`` with a collection for = and !=; False
        in it stands for "listed by no such record". ``positive_domain(operator, value)`` says which
        records match a positive operator on the field."""
        if operator in ("in", "not in"):
            values = set(value)
            wants_none = False in values
            values.discard(False)
            domain = Domain.FALSE
            if values:
                matching = self.env[model].sudo().search(
                    Domain("state", "in", list(states)) & Domain(positive_domain("in", list(values))))
                domain |= Domain("id", "in", matching.move_ids.ids)
            if wants_none:
                listed = self.env[model].sudo().search([("state", "in", list(states))])
                domain |= Domain("id", "not in", listed.move_ids.ids)
            return domain if operator == "in" else ~domain
        if operator in ("<", "<=", ">", ">="):
            matching = self.env[model].sudo().search(
                Domain("state", "in", list(states)) & Domain(positive_domain(operator, value)))
            return Domain("id", "in", matching.move_ids.ids)
        return NotImplemented

    def _search_collections_dispute_state(self, operator, value):
        return self._collections_search_standing(operator, value, "collections.dispute", ("open", "review"),
                                                 lambda op, val: [("state", op, val)])

    def _search_collections_plan_state(self, operator, value):
        return self._collections_search_standing(operator, value, "collections.payment.plan", ("proposed", "active"),
                                                 lambda op, val: [("state", op, val)])

    def _search_collections_promised_date(self, operator, value):
        return self._collections_search_standing(operator, value, "collections.promise", ("open",),
                                                 lambda op, val: [("promised_date", op, val)])

    def _search_collections_case_state(self, operator, value):
        def positive_domain(_operator, values):
            # The selection joins the case's type and its state ("agency_open"): always ``in`` here.
            pairs = [v.split("_", 1) for v in values]
            return Domain.OR(Domain("case_type", "=", kind) & Domain("state", "=", state) for kind, state in pairs)
        return self._collections_search_standing(operator, value, "collections.case", ("proposed", "open"),
                                                 positive_domain)

    @api.depends("invoice_date_due", "payment_state", "commercial_partner_id")
    def _compute_collections_predicted_date(self):
        today = fields.Date.context_today(self)
        # sudo: the invoices' own forecast (Cash Forecast, rebuilt nightly), one grouped read for all of them,
        # else one integer of the customer, for whoever may read the invoice.
        forecast = dict(self.env["collections.forecast.item"].sudo()._read_group(
            [("move_id", "in", [id_ for id_ in self._origin.ids if id_]), ("expected_date", "!=", False)], ["move_id"],
            ["expected_date:min"]))
        for move in self:
            if move.state != "posted" or move.payment_state not in ("not_paid", "partial") \
                    or not move.invoice_date_due or not move.is_sale_document():
                move.collections_predicted_date = False
                continue
            expected = forecast.get(move._origin)
            if expected:
                move.collections_predicted_date = max(expected, today)
                continue
            delay = move.commercial_partner_id.sudo().with_company(move.company_id).collections_usual_delay
            move.collections_predicted_date = predicted_payment_date(move.invoice_date_due, delay, today)

    @api.depends_context("company", "lang")
    @api.depends("commercial_partner_id")
    def _compute_collections_why(self):
        """The sentences of this invoice's open items (one per instalment) in its customer's decision."""
        receivable = self.filtered(lambda move: move.state == "posted" and move.is_sale_document(include_receipts=True)
                                   and move.commercial_partner_id)
        (self - receivable).collections_why = False
        Why = self.env["collections.why"]
        for company, moves in receivable.grouped("company_id").items():
            data = moves.commercial_partner_id._collections_why_data(company)
            names = {move.id: move.name for move in moves}
            for move in moves:
                lines = Why._sentences(
                    [entry for entry in data.get(move.commercial_partner_id.id, ()) if entry.get("move_id") == move.id],
                    company.currency_id, moves=names,
                )
                move.collections_why = "\n".join(line["text"] for line in lines) or False

    def _compute_collections_level(self):
        # sudo: bookkeeping of the follow-up of invoices the caller already reads.
        rows = self.env["collections.invoice.level"].sudo().search_fetch(
            [("move_id", "in", self.ids)], ["move_id", "level_id", "reminded_on", "reminder_count"])
        by_move = {row.move_id.id: row for row in rows}
        Level = self.env["collections.level"]
        for move in self:
            row = by_move.get(move.id)
            move.collections_level_id = Level.browse(row.level_id.id) if row else Level
            move.collections_last_reminder_date = row.reminded_on if row else False
            move.collections_reminder_count = row.reminder_count if row else 0

    def _search_collections_level_id(self, operator, value):
        return search_level(self, "collections.invoice.level", "move_id", "level_id", operator, value)

    def _search_collections_reminder_count(self, operator, value):
        return search_level(self, "collections.invoice.level", "move_id", "reminder_count", operator, value, empty=0)

    def _search_collections_last_reminder_date(self, operator, value):
        return search_level(self, "collections.invoice.level", "move_id", "reminded_on", operator, value)

    def _field_to_sql(self, alias, field_expr, query=None):
        column = {"collections_level_id": "level_id", "collections_last_reminder_date": "reminded_on",
                  "collections_reminder_count": "reminder_count"}.get(field_expr)
        if column == "reminder_count":
            return SQL("COALESCE(%s, 0)", level_sql("collections_invoice_level", "move_id", alias, column))
        if column:
            return level_sql("collections_invoice_level", "move_id", alias, column)
        return super()._field_to_sql(alias, field_expr, query)

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_collections_credit_hold(self):
        for move in self:
            # sudo: one flag of the invoice's own customer (on hold or not), for whoever may read the invoice.
            partner = move.commercial_partner_id.sudo().with_company(move.company_id)
            move.collections_credit_hold = bool(partner.collections_credit_hold)

    @api.model
    def _collections_protected_fields(self):
        """Fields only Collections sets (collections_guard): these, and the override's."""
        others = getattr(super(), "_collections_protected_fields", None)
        return PROTECTED_FIELDS | (others() if others else frozenset())

    @api.model_create_multi
    def create(self, vals_list):
        check_protected(self, vals_list, PROTECTED_FIELDS, create=True)
        return super().create(vals_list)

    def write(self, vals):
        check_protected(self, [vals], PROTECTED_FIELDS)
        return super().write(vals)

    def _post(self, soft=True):
        self._collections_void_broken_overrides()
        # Every document that makes the customer owe: invoices and sales receipts (credit notes lower the debt).
        for move in self.filtered(lambda m: m.move_type in ("out_invoice", "out_receipt")
                                  and not m.collections_fee_source and not m._collections_override_applies()):
            company = move.company_id
            partner = move.commercial_partner_id
            policy = partner._collections_policy(company)
            if not policy.block_invoice_posting:
                continue
            amount = move.amount_total_signed
            check = partner._collections_credit_check(company, amount, policy, exclude_draft=amount)
            if check.status == "block":
                raise UserError(partner._collections_credit_error(
                    company, check, self.env._("Invoice for %s", partner.display_name),
                ))
        posted = super()._post(soft=soft)
        refunds = posted.filtered(lambda m: m.move_type == "out_refund")
        if refunds:
            # A dispute settled by credit notes is resolved when they are posted.
            # sudo: the poster of a credit note may not read disputes; those it settles are resolved with it.
            self.env["collections.dispute"].sudo().search([
                ("credit_note_ids", "in", refunds.ids), ("state", "in", ("open", "review")),
            ])._resolve_if_credited()
        return posted

    def _collections_ensure_access_tokens(self):
        """Give the invoices a reminder links to their portal token, in one statement.

        Odoo creates a missing token on first use with write(), and an invoice's write
        re-synchronises its journal items: on a book of invoices never shared before, that
        was most of the run's time (make bench). The token is a plain column of the portal
        mixin; nothing else depends on its write."""
        missing = self.filtered(lambda move: not move.access_token)
        if not missing:
            return
        values = SQL(", ").join(SQL("(%s, %s)", move.id, str(uuid.uuid4())) for move in missing)
        self.env.execute_query(SQL(
            "UPDATE account_move SET access_token = token FROM (VALUES %s) AS new(id, token) "
            "WHERE account_move.id = new.id AND account_move.access_token IS NULL",
            values,
        ))
        missing.invalidate_recordset(["access_token"])

    def _collections_write_off(self, journal, account, label, date):
        """Post one entry moving what these invoices still owe to ``account``
        and reconcile it with each of them; returns it (empty when nothing is owed).

        Foreign-currency invoices are written off in their currency, so that
        they end fully reconciled without exchange differences."""
        receivables = self.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
            and not line.company_currency_id.is_zero(line.amount_residual)
        )
        if not receivables:
            return self.browse()
        lines = []
        for line in receivables:
            lines.append((0, 0, {
                "name": self.env._("%(label)s: %(invoice)s", label=label, invoice=line.move_id.name),
                "account_id": line.account_id.id,
                "partner_id": line.partner_id.id,
                "currency_id": line.currency_id.id,
                "amount_currency": -line.amount_residual_currency,
                "balance": -line.amount_residual,
            }))
            lines.append((0, 0, {
                "name": self.env._("%(label)s: written off", label=label),
                "account_id": account.id,
                "partner_id": line.partner_id.id,
                "currency_id": line.currency_id.id,
                "amount_currency": line.amount_residual_currency,
                "balance": line.amount_residual,
            }))
        entry = self.create({
            "move_type": "entry",
            "journal_id": journal.id,
            "date": date,
            "ref": label,
            "line_ids": lines,
        })
        entry.action_post()
        credits = entry.line_ids.filtered(lambda item: item.account_id.account_type == "asset_receivable")
        for line, counterpart in zip(receivables, credits.sorted("id"), strict=True):
            (line | counterpart).reconcile()
        return entry

    def action_collections_defer(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Defer Follow-up"),
            "res_model": "collections.defer.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_ids": self.ids},
        }

    def action_collections_dispute(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Dispute"),
            "res_model": "collections.dispute",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_move_ids": self.ids,
                "default_company_id": self.company_id.id,
            },
        }

    def action_collections_override(self):
        return self.env["collections.override.wizard"]._open_for(self)
