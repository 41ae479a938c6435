"""Who may change a customer's credit limit and hold (through every door: forms, RPC, import), and the one place
that sets and releases holds, logs them and refreshes them each day."""
from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_amount

from .collections_guard import check_protected, is_server, server
from .res_partner_credit import LIMIT_FIELDS, LIMIT_GROUPS, SERVER_FIELDS


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _collections_check_limit_rights(self, vals_list, create=False):
        touched = any(LIMIT_FIELDS.intersection(vals) for vals in vals_list)
        if create and not touched:
            # default_* context keys and the user's own ir.default are roads to the limit too (a company default,
            # set by an administrator in the settings, is not the user's doing).
            touched = any(f"default_{name}" in self.env.context for name in LIMIT_FIELDS) or bool(
                self.env["ir.default"].sudo().search_count([
                    ("field_id.model", "=", "res.partner"), ("field_id.name", "in", sorted(LIMIT_FIELDS)),
                    ("user_id", "=", self.env.uid)], limit=1))
        if self.env.su or is_server(self.env) or not touched:
            return
        if not any(self.env.user.has_group(group) for group in LIMIT_GROUPS):
            raise AccessError(self.env._(
                "Only a Collections Manager or an accounting administrator can change credit limits."
            ))

    @api.model
    def _collections_protected_fields(self):
        """Fields only Collections sets (collections_guard)."""
        return SERVER_FIELDS

    @api.model_create_multi
    def create(self, vals_list):
        check_protected(self, vals_list, SERVER_FIELDS, create=True)
        self._collections_check_limit_rights(vals_list, create=True)
        return super().create(vals_list)

    def write(self, vals):
        check_protected(self, [vals], SERVER_FIELDS)
        self._collections_check_limit_rights([vals])
        history = []
        if "credit_limit" in vals:
            company = self.env.company
            # sudo: the old limit, read to record the change the user is making (history is system-written).
            for partner in self.sudo():
                old = partner.credit_limit or 0.0
                new = vals["credit_limit"] or 0.0
                if old != new:
                    history.append({
                        "partner_id": partner.id, "company_id": company.id, "user_id": self.env.uid,
                        "old_limit": old, "new_limit": new,
                        "reason": self.env.context.get("collections_limit_reason") or self.env._("Changed by hand"),
                    })
        result = super().write(vals)
        if history:
            # sudo: one history line per limit change that just went through the user's own
            # write (and its access check) above; nothing is read back.
            server(self.env["collections.credit.limit.history"].sudo()).create(history)
        return result

    def _collections_set_hold(self, reason, origin, company=None, level=None):
        """Put these customers on hold (already checked by the caller); logged."""
        company = company or self.env.company
        today = fields.Date.context_today(self)
        # sudo: private; callers are the managers' hold wizard, a follow-up level and the daily run.
        for partner in self.commercial_partner_id.sudo().with_company(company):
            if partner.collections_credit_hold:
                continue
            server(partner).write({
                "collections_credit_hold": True,
                "collections_hold_reason": reason,
                "collections_hold_date": today,
                "collections_hold_origin": origin,
            })
            partner._collections_log_credit("hold", reason, company, level)

    def _collections_release_hold(self, reason, company=None):
        company = company or self.env.company
        # sudo: private; callers are the managers' release wizard and the daily run.
        for partner in self.commercial_partner_id.sudo().with_company(company):
            if not partner.collections_credit_hold:
                continue
            server(partner).write({
                "collections_credit_hold": False,
                "collections_hold_reason": False,
                "collections_hold_date": False,
                "collections_hold_origin": False,
            })
            partner._collections_log_credit("release", reason, company)

    def _collections_log_credit(self, channel, note, company, level=None, moves=None):
        self.ensure_one()
        labels = {
            "hold": self.env._("Credit hold: %s", note),
            "release": self.env._("Credit hold released: %s", note),
            "override": self.env._("Credit block overridden: %s", note),
            "override_void": self.env._("Credit block override voided: %s", note),
        }
        self.message_post(body=labels[channel], message_type="comment", subtype_xmlid="mail.mt_note")
        return self.env["collections.action"]._collections_log({
            "partner_id": self.id,
            "company_id": company.id,
            "channel": channel,
            "origin": "manual" if self.env.uid != self.env.ref("base.user_root").id else "scheduler",
            "level_id": level.id if level else False,
            "move_ids": [(6, 0, moves.ids)] if moves else [],
            "note": labels[channel],
        })

    def action_collections_hold(self):
        return self._collections_open_hold_wizard("hold")

    def action_collections_release(self):
        return self._collections_open_hold_wizard("release")

    def _collections_open_hold_wizard(self, mode):
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_followup.action_collections_hold_wizard")
        action["context"] = {
            "active_model": "res.partner", "active_ids": self.commercial_partner_id.ids, "default_mode": mode,
        }
        action["name"] = self.env._("Put on Credit Hold") if mode == "hold" else self.env._("Release Credit Hold")
        return action

    @api.model
    def _collections_refresh_holds(self, company, today):
        """Daily: hold customers over their limit (blocking policies), release holds whose cause is gone."""
        for partner, change, reason in self._collections_hold_changes(company, today):
            if change == "release":
                partner._collections_release_hold(reason, company)
            else:
                partner._collections_set_hold(reason, "limit", company)

    def _collections_hold_changes(self, company, today):
        """[(customer, 'set' or 'release', reason)] the daily review of the holds would make now (nothing
        written: _collections_refresh_holds applies them, the run preview shows them)."""
        # sudo: the daily scheduled job, per company; it places and releases holds, nothing is returned.
        Partner = self.sudo().with_company(company)
        held = Partner.search([("collections_credit_hold", "=", True)])
        limited = Partner.search([("credit_limit", ">", 0), ("parent_id", "=", False)]) \
            if company.account_use_credit_limit else Partner
        candidates = (held | limited).commercial_partner_id
        if not candidates:
            return []
        exposures = self._collections_exposures(company, candidates)
        decisions = candidates._collections_decide(company, today)
        changes = []
        for partner in candidates:
            exposure = exposures[partner.id].total
            limit = partner._collections_credit_limit(company)
            over = bool(limit) and exposure > limit
            if partner.collections_credit_hold:
                origin = partner.collections_hold_origin
                if origin == "level" and decisions[partner.id][1].net_overdue <= 0:
                    changes.append((partner, "release", self.env._("nothing overdue left, net of its credits")))
                elif origin == "limit" and not over:
                    changes.append((partner, "release", self.env._("back under the credit limit")))
            elif over and partner._collections_policy(company).credit_limit_mode == "block":
                changes.append((partner, "set", self.env._(
                    "exposure %(exposure)s over the credit limit %(limit)s",
                    exposure=format_amount(self.env, float(exposure), company.currency_id),
                    limit=format_amount(self.env, limit, company.currency_id),
                )))
        return changes
