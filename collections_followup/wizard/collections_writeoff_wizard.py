from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.collections_guard import server


class CollectionsWriteoffWizard(models.TransientModel):
    """A manager writes uncollectable invoices off as bad debt."""

    _name = "collections.writeoff.wizard"
    _description = "Write Off Bad Debts"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount = fields.Monetary(string="Amount Written Off", compute="_compute_amount")
    account_id = fields.Many2one(
        "account.account", string="Bad Debt Account", required=True, check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_other'))]",
        default=lambda self: self._default_policy().writeoff_account_id,
    )
    journal_id = fields.Many2one(
        "account.journal", required=True, check_company=True, domain="[('type', '=', 'general')]",
        default=lambda self: self._default_journal(),
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    reason = fields.Text(required=True)

    @api.model
    def _default_policy(self):
        return self.env["collections.policy"]._get_default_policy(self.env.company)

    @api.model
    def _default_journal(self):
        policy = self._default_policy()
        return policy.writeoff_journal_id or self.env["account.journal"].search([
            ("company_id", "=", self.env.company.id), ("type", "=", "general"),
        ], limit=1)

    @api.depends("move_ids")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = sum(wizard.move_ids.mapped("amount_residual_signed"))

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("collections_followup.group_collections_manager"):
            raise AccessError(self.env._("Only a Collections Manager can write debts off."))
        moves = self.move_ids
        wrong = moves.filtered(
            lambda m: m.move_type != "out_invoice" or m.state != "posted" or m.company_id != self.company_id
            or m.payment_state not in ("not_paid", "partial")
        )
        if wrong:
            raise UserError(self.env._(
                "Only open, posted customer invoices of %(company)s can be written off; not %(invoices)s.",
                company=self.company_id.name, invoices=", ".join(wrong.mapped("display_name")),
            ))
        if not (self.reason or "").strip():
            raise UserError(self.env._("Give the reason for the write-off."))
        label = self.env._("Bad debt write-off")
        # The manager's decision; the entry is the company's (billing rights not required).
        entry = moves.sudo().with_company(self.company_id)._collections_write_off(
            self.journal_id, self.account_id, label, self.date,
        )
        for partner, group in moves.grouped("commercial_partner_id").items():
            self.env["collections.action"]._collections_log({
                "partner_id": partner.id,
                "company_id": self.company_id.id,
                "channel": "writeoff",
                "move_ids": [(6, 0, group.ids)],
                "amount": sum(entry.line_ids.filtered(
                    lambda line, partner=partner: line.account_id == self.account_id
                    and line.partner_id.commercial_partner_id == partner
                ).mapped("balance")),
                "note": self.env._("Written off to %(account)s in %(entry)s: %(reason)s",
                                   account=self.account_id.display_name, entry=entry.name, reason=self.reason),
            })
        # Disputes, plans, promises and settlements of these invoices are over.
        # sudo: the manager's write-off closes whatever arrangement covers these invoices, whoever owns it.
        disputes = self.env["collections.dispute"].sudo().search([
            ("move_ids", "in", moves.ids), ("state", "in", ("open", "review")),
        ])
        for dispute in disputes:
            dispute.resolution = (dispute.resolution or "") + "\n" + self.env._(
                "Written off as bad debt (%s).", entry.name)
        disputes.action_resolve()
        # A placed case whose invoices are all written off is over: uncollectable.
        cases = self.env["collections.case"].sudo().search([("move_ids", "in", moves.ids), ("state", "=", "open")])
        for case in cases.filtered(lambda c: all(m.payment_state in ("paid", "reversed") for m in c.move_ids)):
            server(case).write({"state": "uncollectable", "closed_date": fields.Date.context_today(self)})
            case._log(self.env._("Case %(name)s closed as uncollectable: written off in %(entry)s",
                                 name=case.name, entry=entry.name), "case")
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": entry.id,
            "view_mode": "form",
        }
