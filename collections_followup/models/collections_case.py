from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare

from .collections_guard import is_server, server

CASE_STATES = [
    ("proposed", "To Approve"),
    ("open", "Placed"),
    ("recovered", "Recovered"),
    ("partial", "Partly Recovered"),
    ("uncollectable", "Uncollectable"),
    ("cancelled", "Cancelled"),
]
OPEN_STATES = ("proposed", "open")
LEGAL_STAGES = [
    ("notice", "Letter Before Action"),
    ("claim", "Claim Filed"),
    ("hearing", "Hearing"),
    ("judgment", "Judgment"),
    ("enforcement", "Enforcement"),
]


class CollectionsCase(models.Model):
    """Invoices escalated to a collection agency or to legal action.

    While a case is placed, the addon sends no reminder about its invoices:
    the agency or the lawyer deals with the customer."""

    _name = "collections.case"
    _description = "Collection Case"
    _inherit = ["collections.arrangement.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True
    _sequence_code = "collections.case"

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    case_type = fields.Selection(
        [("agency", "Collection Agency"), ("legal", "Legal Action")], string="Type", required=True,
        default="agency", tracking=True,
    )
    state = fields.Selection(CASE_STATES, default="proposed", required=True, readonly=True, tracking=True)
    move_ids = fields.Many2many(
        "account.move", "collections_case_account_move_rel", "case_id", "move_id",
        string="Placed Invoices", check_company=True, required=True,
        domain="[('commercial_partner_id', '=', partner_id), ('move_type', '=', 'out_invoice'), "
               "('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    origin = fields.Selection(
        [("manual", "Opened by Hand"), ("level", "Follow-up Level")], default="manual", required=True, readonly=True,
    )
    level_id = fields.Many2one("collections.level", string="Escalated at Level", readonly=True)
    placed_date = fields.Date(readonly=True, copy=False)
    closed_date = fields.Date(readonly=True, copy=False)
    approved_by_id = fields.Many2one("res.users", string="Approver", readonly=True, copy=False)
    note = fields.Text()
    # Agency
    agency_id = fields.Many2one(
        "res.partner", string="Collection Agency", domain="[('collections_is_agency', '=', True)]", tracking=True,
    )
    commission_rate = fields.Float(string="Commission (%)", digits=(16, 2), tracking=True)
    fixed_fee = fields.Monetary(string="Fixed Fee per Case")
    amount_reported = fields.Monetary(
        string="Reported by Agency", tracking=True,
        help="Collected by the agency and not yet received by us (from the agency's statements), entered by a "
             "Collections Manager: it is owed commission. At most what the case's invoices still owe; what is "
             "received counts from the ledger.",
    )
    amount_recovered = fields.Monetary(compute="_compute_recovery")
    commission = fields.Monetary(string="Commission Owed", compute="_compute_recovery")
    bill_ids = fields.Many2many(
        "account.move", "collections_case_bill_rel", "case_id", "move_id", string="Agency Bills", readonly=True,
        copy=False,
    )
    amount_billed = fields.Monetary(compute="_compute_recovery")
    # Legal
    counsel_id = fields.Many2one("res.partner", string="Lawyer", tracking=True)
    court_reference = fields.Char(tracking=True)
    legal_stage = fields.Selection(LEGAL_STAGES, tracking=True)
    legal_costs = fields.Monetary(tracking=True)

    @api.model_create_multi
    def create(self, vals_list):
        cases = super().create(vals_list)
        # What the record holds, whatever road filled it (values, a default): only a manager enters it.
        cases.filtered("amount_reported")._check_reported_by_manager()
        cases._check_not_placed_twice()
        for case in cases:
            server(case).write({"amount_basis": case._open_residual()})
            case._log(self.env._("Case %(name)s (%(type)s) proposed for %(invoices)s", name=case.name,
                                 type=dict(case._fields["case_type"]._description_selection(self.env))[case.case_type],
                                 invoices=", ".join(case.move_ids.mapped("name"))), "case")
        return cases

    def write(self, vals):
        # The terms a manager approved (invoices, type, with whom, at what commission) do not change once placed.
        placed_terms = {"move_ids", "partner_id", "case_type", "agency_id", "counsel_id", "commission_rate",
                        "fixed_fee", "company_id"}
        if placed_terms & set(vals) and not is_server(self.env) and any(c.state != "proposed" for c in self):
            raise UserError(self.env._(
                "The invoices, type, agency or counsel and commission of a placed case cannot change; close it and "
                "open another."))
        if "amount_reported" in vals:
            self._check_reported_by_manager()
        result = super().write(vals)
        if "move_ids" in vals:
            self._check_moves_belong()
            self._check_not_placed_twice()
        return result

    def _check_not_placed_twice(self):
        for case in self:
            # sudo: a case placed by another collector counts too; only its existence is used (the error names it).
            other = self.sudo().search([
                ("id", "!=", case.id), ("state", "in", OPEN_STATES), ("move_ids", "in", case.move_ids.ids),
            ], limit=1)
            if other:
                raise ValidationError(self.env._(
                    "These invoices are already in case %s: close it first.", other.name,
                ))

    def _check_reported_by_manager(self):
        """What an agency reports collected is owed commission (billed by a manager): entered by a manager."""
        if self and not is_server(self.env) and not self.env.user.has_group(
                "collections_followup.group_collections_manager"):
            raise AccessError(self.env._(
                "Only a Collections Manager enters what an agency reports collected: commission is owed on it."))

    @api.constrains("amount_reported")
    def _check_amount_reported(self):
        for case in self:
            rounding = case.currency_id.rounding
            if float_compare(case.amount_reported, 0.0, precision_rounding=rounding) < 0 or float_compare(
                    case.amount_reported, case._open_residual(), precision_rounding=rounding) > 0:
                raise ValidationError(self.env._(
                    "Case %(name)s: the agency can report at most what its invoices still owe (%(open)s), and not "
                    "less than nothing; what we received counts from the ledger.",
                    name=case.name, open=case.currency_id.format(case._open_residual())))

    @api.onchange("agency_id")
    def _onchange_agency_id(self):
        if self.agency_id:
            self.commission_rate = self.agency_id.collections_agency_commission
            self.fixed_fee = self.agency_id.collections_agency_fixed_fee

    @api.depends("move_ids.amount_residual_signed", "amount_basis", "amount_reported", "commission_rate",
                 "fixed_fee", "bill_ids.amount_total_signed")
    def _compute_recovery(self):
        for case in self:
            paid = max(case.amount_basis - case._open_residual(), 0.0) if case.amount_basis else 0.0
            # Reported and not received: never more than is still owed (a remittance since counts as paid).
            case.amount_recovered = paid + min(case.amount_reported, max(case._open_residual(), 0.0))
            if case.case_type == "agency" and case.state != "proposed":
                case.commission = case.currency_id.round(
                    case.amount_recovered * case.commission_rate / 100 + case.fixed_fee
                )
            else:
                case.commission = 0.0
            case.amount_billed = -sum(case.bill_ids.filtered(lambda b: b.state == "posted").mapped(
                "amount_total_signed"))

    # ------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------

    def _check_manager(self):
        if not self.env.user.has_group("collections_followup.group_collections_manager"):
            raise AccessError(self.env._("Only a Collections Manager can place invoices with an agency or a lawyer."))

    def action_approve(self):
        """Place the invoices: internal reminders stop."""
        self._check_manager()
        return self._place()

    def _place(self, by_policy=False):
        """``by_policy``: placed by the policy's standing approval (automatic escalation), no user approved it
        (server code only: a parameter, never a context key a client could send)."""
        for case in self:
            if case.state != "proposed":
                raise UserError(self.env._("Case %s is not waiting for approval.", case.name))
            if case.case_type == "agency" and not case.agency_id:
                raise UserError(self.env._("Choose the collection agency of case %s.", case.name))
            if case.case_type == "legal" and not case.counsel_id:
                raise UserError(self.env._("Choose the counsel of case %s.", case.name))
        for case in self:
            # sudo: the approval request is answered, whoever it was assigned to (the caller is a checked manager).
            case.sudo().activity_feedback(["mail.mail_activity_data_todo"], feedback=self.env._("Approved"))
            server(case).write({
                "state": "open",
                "placed_date": fields.Date.context_today(self),
                "approved_by_id": False if by_policy else self.env.user.id,
                "amount_basis": case._open_residual(),
            })
            with_whom = case.agency_id if case.case_type == "agency" else case.counsel_id
            case._log(self.env._("Case %(name)s: %(amount)s placed with %(who)s", name=case.name,
                                 amount=case.currency_id.format(case.amount_basis), who=with_whom.display_name), "case")
        return True

    def _close(self, state):
        self._check_manager()
        for case in self:
            if case.state != "open":
                raise UserError(self.env._("Only a placed case can be closed."))
        labels = dict(CASE_STATES)
        for case in self:
            server(case).write({"state": state, "closed_date": fields.Date.context_today(self)})
            case._log(self.env._("Case %(name)s closed: %(result)s; %(recovered)s recovered, commission %(fee)s",
                                 name=case.name, result=labels[state],
                                 recovered=case.currency_id.format(case.amount_recovered),
                                 fee=case.currency_id.format(case.commission)), "case")
        return True

    def action_close_recovered(self):
        return self._close("recovered")

    def action_close_partial(self):
        return self._close("partial")

    def action_close_uncollectable(self):
        """Close as uncollectable and offer to write the rest off."""
        self._close("uncollectable")
        moves = self.move_ids.filtered(lambda m: m.payment_state in ("not_paid", "partial"))
        if not moves:
            return True
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "collections_followup.action_collections_writeoff_wizard")
        action["context"] = {
            "default_move_ids": moves.ids,
            "default_reason": self.env._("Case %s closed as uncollectable.", ", ".join(self.mapped("name"))),
        }
        return action

    def action_cancel(self):
        for case in self:
            if case.state not in OPEN_STATES:
                raise UserError(self.env._("Case %s is already closed.", case.name))
            if case.state == "open":
                self._check_manager()
        server(self).write({"state": "cancelled", "closed_date": fields.Date.context_today(self)})
        for case in self:
            case._log(self.env._("Case %s cancelled; internal follow-up resumes", case.name), "case")
        return True

    def action_create_bill(self):
        """The agency's vendor bill for the commission not billed yet."""
        self.ensure_one()
        self._check_manager()
        if self.case_type != "agency" or self.state == "proposed":
            raise UserError(self.env._("Only a placed agency case has a commission to bill."))
        due = self.commission - self.amount_billed
        if float_compare(due, 0.0, precision_rounding=self.currency_id.rounding) <= 0:
            raise UserError(self.env._("The commission of case %s is already billed.", self.name))
        # sudo: a checked collections manager's decision; the vendor bill is the company's (no purchase rights needed).
        bill = self.env["account.move"].sudo().with_company(self.company_id).create({
            "move_type": "in_invoice",
            "partner_id": self.agency_id.id,
            "invoice_date": fields.Date.context_today(self),
            "ref": self.name,
            "invoice_line_ids": [(0, 0, {
                "name": self.env._(
                    "Collection commission, case %(case)s (%(rate)s%% of %(recovered)s)", case=self.name,
                    rate=self.commission_rate, recovered=self.currency_id.format(self.amount_recovered),
                ),
                "quantity": 1,
                "price_unit": due,
                "tax_ids": [(5, 0, 0)],
            })],
        })
        server(self).bill_ids = [(4, bill.id)]
        self._log(self.env._("Commission of %(amount)s billed by %(agency)s (%(bill)s, draft)",
                             amount=self.currency_id.format(due), agency=self.agency_id.display_name,
                             bill=bill.display_name), "case")
        return {"type": "ir.actions.act_window", "res_model": "account.move", "res_id": bill.id, "view_mode": "form"}

    def action_print_placement(self):
        return self.env.ref("collections_followup.action_report_collections_case").report_action(self)

    # --- escalation by a follow-up level ---

    @api.model
    def _escalate(self, partner, policy, level, decision, origin, today):
        """Propose (or, if the policy says so, place) an agency case for the
        listed invoices not already in a case."""
        Case = self.env["collections.case"].sudo()
        moves = self.env["account.move"].sudo().browse(decision.listed_move_ids).filtered(
            lambda m: m.move_type == "out_invoice")
        taken = Case.search([("state", "in", ("proposed", "open")), ("move_ids", "in", moves.ids)]).move_ids
        moves -= taken
        if not moves:
            return self.env["collections.action"]
        case = server(Case).create({
            "partner_id": partner.commercial_partner_id.id,
            "company_id": self.env.company.id,
            "case_type": "agency",
            "move_ids": [(6, 0, moves.ids)],
            "origin": "level",
            "level_id": level.id,
            "agency_id": policy.agency_id.id,
            "commission_rate": policy.agency_id.collections_agency_commission,
            "fixed_fee": policy.agency_id.collections_agency_fixed_fee,
            "user_id": self.env["collections.send"]._collector(partner, policy).id,
        })
        if policy.escalation_mode == "automatic" and policy.agency_id:
            # The policy is the manager's standing approval.
            case._place(by_policy=True)
        else:
            approver = Case._approver_for(policy, self.env.company)
            if approver:
                case.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=approver.id,
                    summary=self.env._("Approve escalation %s", case.name),
                    note=self.env._("%(customer)s reached level '%(level)s'.", customer=partner.display_name,
                                    level=level.name),
                )
        return self.env["collections.action"].sudo().search([
            ("channel", "=", "case"), ("partner_id", "=", partner.commercial_partner_id.id),
            ("move_ids", "in", moves.ids),
        ])
