from odoo import api, fields, models
from odoo.tools import float_compare, format_amount

from .collections_guard import check_protected, server

OVERRIDE_FIELDS = frozenset({
    "collections_override_user_id",
    "collections_override_date",
    "collections_override_reason",
    "collections_override_partner_id",
    "collections_override_company_id",
    "collections_override_currency_id",
    "collections_override_amount",
})


class CollectionsOverrideMixin(models.AbstractModel):
    """A manager's override of a credit block for ONE document, bound to what was approved.

    The override records the document's customer (commercial entity), company,
    currency and total at approval. It lets the document through only while they
    still hold: another customer, company or currency, or a higher total, voids it
    (logged) and the credit rules apply again. A lower total keeps it. Only the
    override wizard sets these fields (see collections_guard)."""

    _name = "collections.override.mixin"
    _description = "Collections: credit override of one document"

    collections_override_user_id = fields.Many2one(
        "res.users", string="Credit Block Overridden By", readonly=True, copy=False,
    )
    collections_override_date = fields.Datetime(string="Overridden On", readonly=True, copy=False)
    collections_override_reason = fields.Char(string="Override Reason", readonly=True, copy=False)
    collections_override_partner_id = fields.Many2one(
        "res.partner", string="Overridden For", readonly=True, copy=False,
        help="The customer (commercial entity) the override was approved for.",
    )
    collections_override_company_id = fields.Many2one("res.company", readonly=True, copy=False)
    collections_override_currency_id = fields.Many2one("res.currency", readonly=True, copy=False)
    collections_override_amount = fields.Monetary(
        string="Overridden Up To", readonly=True, copy=False, currency_field="collections_override_currency_id",
        help="The document's total when the override was approved; a higher total voids it.",
    )

    @api.model
    def _collections_protected_fields(self):
        others = getattr(super(), "_collections_protected_fields", None)
        return OVERRIDE_FIELDS | (others() if others else frozenset())

    @api.model_create_multi
    def create(self, vals_list):
        check_protected(self, vals_list, OVERRIDE_FIELDS, create=True)
        return super().create(vals_list)

    def write(self, vals):
        check_protected(self, [vals], OVERRIDE_FIELDS)
        result = super().write(vals)
        self._collections_void_broken_overrides()
        return result

    def _collections_grant_override(self, reason):
        """Server side of the override wizard (its caller checked the manager)."""
        for document in self:
            server(document).write({
                "collections_override_user_id": self.env.uid,
                "collections_override_date": fields.Datetime.now(),
                "collections_override_reason": reason,
                "collections_override_partner_id": document.partner_id.commercial_partner_id.id,
                "collections_override_company_id": document.company_id.id,
                "collections_override_currency_id": document.currency_id.id,
                "collections_override_amount": document.amount_total,
            })

    def _collections_override_broken(self):
        """Why this document's override no longer applies, or "" while it does."""
        self.ensure_one()
        if self.partner_id.commercial_partner_id != self.collections_override_partner_id:
            return self.env._("the customer changed")
        if self.company_id != self.collections_override_company_id:
            return self.env._("the company changed")
        if self.currency_id != self.collections_override_currency_id:
            return self.env._("the currency changed")
        currency = self.currency_id
        if float_compare(self.amount_total, self.collections_override_amount,
                         precision_rounding=currency.rounding) > 0:
            return self.env._(
                "the total rose from %(approved)s to %(now)s",
                approved=format_amount(self.env, self.collections_override_amount, currency),
                now=format_amount(self.env, self.amount_total, currency),
            )
        return ""

    def _collections_override_applies(self):
        self.ensure_one()
        return bool(self.collections_override_user_id) and not self._collections_override_broken()

    def _collections_void_broken_overrides(self):
        """Clear the overrides these documents no longer match, with a note and a log entry."""
        for document in self.filtered("collections_override_user_id"):
            why = document._collections_override_broken()
            if not why:
                continue
            approved_for = document.collections_override_partner_id or document.partner_id.commercial_partner_id
            company = document.collections_override_company_id or document.company_id
            server(document).write(dict.fromkeys(OVERRIDE_FIELDS, False))
            note = self.env._("%(document)s: %(why)s", document=document.display_name, why=why)
            document.message_post(
                body=self.env._("Credit block override voided: %s. The credit rules apply again.", why),
                message_type="comment", subtype_xmlid="mail.mt_note",
            )
            moves = document if document._name == "account.move" else None
            # sudo: the customer's note and log entry say what the user's own change did; whoever may
            # change the document (a salesperson) may not post on the customer or write the log.
            approved_for.sudo()._collections_log_credit("override_void", note, company, moves=moves)
