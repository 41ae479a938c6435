"""Who follows a customer up and who receives its reminders: its collector (the one rule of every screen),
its follow-up recipients, and who may change its follow-up settings."""
from typing import NamedTuple

from odoo import models
from odoo.exceptions import AccessError
from odoo.tools import SQL

# Fields of this addon a collector may change on a customer; everybody else
# (salespeople included) only reads them.
COLLECTOR_FIELDS = {
    "collections_user_id",
    "collections_policy_id",
    "collections_excluded",
    "collections_postponed_until",
    "collections_postpone_reason",
}


def _writable(partner):
    """Whether Odoo writes to this partner's email: active, a valid address, no opt-out, no bounce."""
    return partner.active and partner.email_normalized and not partner.is_blacklisted and not partner.message_bounce


class Collector(NamedTuple):
    """Who collects a customer's debt in a company, and where that comes from."""

    user_id: int | None
    source: str  # "customer" (set on it), "policy" (its policy's collector), "none"


def collector_sql(partner, company_key, company_id):
    """SQL of a customer's collector (a res_users id or NULL), the one rule for every screen:
    the collector set on the customer, else its policy's (chosen by hand, else its segment's,
    else the company's default policy). ``partner``: alias of the commercial partner's row;
    ``company_key``: the company id as text (key of the company-dependent columns);
    ``company_id``: the company id as an integer SQL expression."""
    return SQL(
        """COALESCE(
            (%(p)s.collections_user_id ->> %(key)s)::int,
            (SELECT user_id FROM collections_policy WHERE id = (%(p)s.collections_policy_id ->> %(key)s)::int),
            (SELECT policy.user_id FROM collections_segment segment
               JOIN collections_policy policy ON policy.id = (segment.policy_id ->> %(key)s)::int
              WHERE segment.id = (%(p)s.collections_segment_id ->> %(key)s)::int
                AND policy.company_id = %(company)s),
            (SELECT user_id FROM collections_policy
              WHERE company_id = %(company)s AND is_default AND active ORDER BY id LIMIT 1)
        )""",
        p=partner, key=company_key, company=company_id,
    )


class ResPartner(models.Model):
    _inherit = "res.partner"

    def write(self, vals):
        if COLLECTOR_FIELDS.intersection(vals) and not self.env.su \
                and not self.env.user.has_group("collections_followup.group_collections_user"):
            raise AccessError(self.env._(
                "Only collectors can change a customer's follow-up settings (collector, policy, "
                "exclusion, postponement). Ask a Collections user to do it."
            ))
        return super().write(vals)

    def _collections_collectors(self, company):
        """{commercial partner id: Collector} of these customers in ``company`` (one query)."""
        commercial = self.commercial_partner_id.filtered("id")
        if not commercial:
            return {}
        self.env["res.partner"].flush_model(["collections_user_id", "collections_policy_id", "collections_segment_id"])
        self.env["collections.policy"].flush_model(["user_id", "company_id", "is_default", "active"])
        self.env["collections.segment"].flush_model(["policy_id"])
        key = SQL("%s", str(company.id))
        rows = self.env.execute_query(SQL(
            "SELECT p.id, (p.collections_user_id ->> %s)::int, %s FROM res_partner p WHERE p.id = ANY(%s)",
            str(company.id), collector_sql(SQL("p"), key, SQL("%s", company.id)), commercial.ids,
        ))
        return {
            partner_id: Collector(own or user_id, "customer" if own else "policy" if user_id else "none")
            for partner_id, own, user_id in rows
        }

    def _collections_collector(self, company):
        """The customer's collector in ``company`` (res.users, empty when nobody collects it)."""
        self.ensure_one()
        found = self._collections_collectors(company).get(self.commercial_partner_id.id)
        # sudo: the user record of the collector, whose name every internal screen shows.
        return self.env["res.users"].sudo().browse(found.user_id if found and found.user_id else [])

    def _collections_recipients(self):
        """Who receives the customer's follow-up emails: its contacts marked *Follow-up Recipient*, else
        its invoice contacts, else the customer itself; then the contacts marked *Follow-up Copy*. Only
        addresses Odoo writes to (active, valid, not opted out, not bounced); nobody when none of the
        main recipients is one (the copies alone are not the customer: the failure says why)."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        # Odoo does not notify archived contacts: they are no recipients (child_ids holds active ones).
        contacts = commercial.child_ids.filtered("email")
        main = (contacts.filtered(lambda c: c.collections_followup_role == "to")
                or contacts.filtered(lambda c: c.type == "invoice") or commercial).filtered(_writable)
        if not main:
            return main
        return main | (contacts.filtered(lambda c: c.collections_followup_role == "cc") - main).filtered(_writable)
