"""The customer's account link: one URL in every reminder that opens the customer's account without a login.

A link is ``/collections/account/<token>``, the token ``<customer id>.<expiry>.<generation>.<signature>``:
the signature is an HMAC (Odoo's ``database.secret``) of the three values before it, so a link cannot be
made or changed outside the server; it stops working on its expiry day (the policy's *Account Link Valid For*
days after the reminder) and when the customer's links are revoked (the generation moves on). Nothing is
stored per link: a reminder sent twice carries the same link that day."""
from datetime import date, timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import consteq
from odoo.tools.misc import hmac

from .collections_guard import server

SCOPE = "collections_followup.account_link"
# Tokens that open nothing, from one address, before its account-link requests are refused for a while.
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)


class ResPartner(models.Model):
    _inherit = "res.partner"

    collections_link_generation = fields.Integer(
        string="Account Link Generation", copy=False, readonly=True, groups="base.group_user",
        help="Revoking the customer's account links moves it on: links made before stop working.",
    )

    def _collections_link_token(self, expiry):
        """The account link's token of this customer, valid until ``expiry`` (a date) included."""
        customer = self.commercial_partner_id.sudo()
        payload = f"{customer.id}.{expiry.toordinal()}.{customer.collections_link_generation}"
        return f"{payload}.{hmac(self.env(su=True), SCOPE, payload)}"

    def _collections_account_link(self, days, today=None):
        """The account link's URL, valid ``days`` days from ``today``; False when ``days`` is 0."""
        self.ensure_one()
        if not days or days <= 0:
            return False
        today = today or fields.Date.context_today(self)
        token = self._collections_link_token(today + timedelta(days=days))
        return f"{self.commercial_partner_id.get_base_url()}/collections/account/{token}"

    def _collections_from_link(self, token, today=None):
        """The customer a token opens (sudo), or an empty recordset: a malformed, forged, expired or revoked
        token, or a customer no longer active. Every refusal is the same empty answer."""
        nobody = self.env["res.partner"]
        parts = (token or "").split(".")
        if len(parts) != 4 or not all(part.isdigit() for part in parts[:3]) or len(token) > 200:
            return nobody
        partner_id, expiry, generation = (int(part) for part in parts[:3])
        if not 1 <= expiry <= date.max.toordinal():
            return nobody
        payload = f"{partner_id}.{expiry}.{generation}"
        if not consteq(hmac(self.env(su=True), SCOPE, payload), parts[3]):
            return nobody
        today = today or fields.Date.context_today(self)
        if date.fromordinal(expiry) < today:
            return nobody
        customer = self.env["res.partner"].sudo().browse(partner_id).exists()
        if (not customer or not customer.active or customer != customer.commercial_partner_id
                or customer.collections_link_generation != generation):
            return nobody
        return customer

    def action_collections_revoke_links(self):
        """Every account link sent to these customers stops working (a new reminder carries a new one)."""
        if not self.env.user.has_group("collections_followup.group_collections_user"):
            raise AccessError(self.env._("Only collectors revoke a customer's account links."))
        self.check_access("write")
        Action = self.env["collections.action"]
        for customer in self.commercial_partner_id:
            # The link opens the customer's account in every company: revoking it is for the collectors of a
            # company the customer owes (or owed) something to, not for any user who can see a shared contact.
            # sudo: whether the customer has receivable items in the user's companies (a count).
            owes_here = self.env["account.move.line"].sudo().search_count([
                ("partner_id.commercial_partner_id", "=", customer.id), ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
                ("company_id", "in", self.env.user.company_ids.ids),
            ], limit=1)
            if not owes_here:
                raise AccessError(self.env._(
                    "%s has no receivable in your companies: its account links are revoked by its own collectors.",
                    customer.display_name))
            # server: the generation is the addon's to move on; the collector asked for it.
            server(customer.sudo()).write({
                "collections_link_generation": customer.sudo().collections_link_generation + 1,
            })
            Action._collections_log({
                "partner_id": customer.id, "channel": "account_link", "origin": "manual",
                "note": self.env._("Account links revoked: the links sent before no longer open the account."),
            })
        return True


class CollectionsLinkAttempt(models.Model):
    """A token that opened nothing, by requesting address: bounds the rate of guesses."""

    _name = "collections.link.attempt"
    _description = "Failed Account Link Attempt"
    _log_access = False

    address = fields.Char(required=True, index=True)
    moment = fields.Datetime(required=True, index=True, default=fields.Datetime.now)

    @api.model
    def _collections_throttled(self, address):
        since = fields.Datetime.now() - FAILURE_WINDOW
        return self.search_count([("address", "=", address), ("moment", ">=", since)]) >= MAX_FAILURES

    @api.model
    def _collections_failed(self, address):
        """Count a refusal. Committed at once: the 404 that follows rolls the request back, and an uncounted
        guess would be free."""
        self.sudo().create({"address": address})
        self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.autovacuum
    def _gc_attempts(self):
        self.search([("moment", "<", fields.Datetime.now() - timedelta(days=1))]).unlink()
