"""Why: the reasons of a follow-up decision, as data and as sentences.

The engine returns the reasons of its decision (engine/levels.py, ``explain=True``): the
customer's outcome and one reason per open item, with the values each rule compared. This
model adds what the ledger's engine does not know (which policy applies and why, what pauses
an item, the credit hold, the contact rules), turns them into JSON stored with each log entry
at the moment of the decision, and into translated sentences rendered by QWeb (no HTML built
by hand) on the customer, each invoice, the worklist and the log.
"""
from datetime import date
from decimal import Decimal

from odoo import api, models
from odoo.tools import format_date, formatLang

# Keys of a reason's values that are dates or amounts (company currency), for storing and showing.
DATE_KEYS = {"until", "next", "on", "due_date", "last_reminder", "hold_date"}
AMOUNT_KEYS = {"amount", "credits", "minimum", "total_due"}
# What pauses an item, most binding first (the one named when several do).
PAUSE_KINDS = ("payment", "case", "dispute", "plan", "settlement", "promise", "deferral")


def to_json(value):
    if isinstance(value, date):
        return None if value == date.max else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class CollectionsWhy(models.AbstractModel):
    _name = "collections.why"
    _description = "Collections: Why a Decision Was Taken"

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------

    @api.model
    def _data(self, partner, company, decision, contact_wait=None):
        """JSON-ready list of the reasons of ``decision`` (taken with explain=True, see
        res.partner._collections_decide) for ``partner`` in ``company``: the customer's outcome, the
        policy and why it applies, the contact rules' wait, the credit hold, then each item's reason,
        a paused item's with what pauses it. [] when the decision has no trace."""
        if not decision.trace:
            return []
        customer = [reason for reason in decision.trace if reason.move_id is None]
        items = [reason for reason in decision.trace if reason.move_id is not None]
        data = [{"code": reason.code, **{key: to_json(value) for key, value in reason.values.items()}}
                for reason in customer]
        commercial = partner.commercial_partner_id.with_company(company)
        if data[0]["code"] == "postponed" and commercial.collections_postpone_reason:
            data[0]["note"] = commercial.collections_postpone_reason
        if contact_wait:
            data.append({"code": "contact_wait", **contact_wait})
        if commercial.sudo().collections_credit_hold:
            data.append({"code": "hold", "note": commercial.sudo().collections_hold_reason or "",
                         "hold_date": to_json(commercial.sudo().collections_hold_date)})
        causes = self._pause_causes(company, {r.move_id for r in items if r.code == "item_paused"})
        for reason in items:
            entry = {"code": reason.code, "move_id": reason.move_id, "line_id": reason.line_id,
                     **{key: to_json(value) for key, value in reason.values.items()}}
            if reason.code == "item_paused":
                entry["cause"], entry["cause_name"] = causes.get(reason.move_id, ("deferral", ""))
            data.append(entry)
        return data

    @api.model
    def _pause_causes(self, company, move_ids):
        """{move_id: (kind, reference)} of what pauses these invoices, the most binding first (one query;
        none without invoices)."""
        if not move_ids:
            return {}
        causes = {}
        for move_id, _until, kind, name in self.env["collections.ledger"]._pause_rows(company, move_ids):
            current = causes.get(move_id)
            if current is None or PAUSE_KINDS.index(kind) < PAUSE_KINDS.index(current[0]):
                causes[move_id] = (kind, name or "")
        return causes

    # ------------------------------------------------------------------
    # Sentences
    # ------------------------------------------------------------------

    @api.model
    def _sentences(self, data, currency, moves=None):
        """[{'invoice': name or '', 'text': sentence}] of stored reasons, in the user's language.
        ``moves``: {move_id: name} of the invoices named (read when not given)."""
        if moves is None:
            ids = {entry["move_id"] for entry in data if entry.get("move_id")}
            # sudo: names of the invoices the reasons are about (the caller shows the reasons).
            moves = {move.id: move.name for move in self.env["account.move"].sudo().browse(sorted(ids)).exists()}
        lines = []
        for entry in data:
            text = self._sentence(entry, currency)
            if text:
                lines.append({"invoice": moves.get(entry.get("move_id"), ""), "text": text, "code": entry["code"]})
        return lines

    def _format(self, entry, currency):
        values = {}
        for key, value in entry.items():
            if key in DATE_KEYS:
                values[key] = format_date(self.env, value) if value else ""
            elif key in AMOUNT_KEYS and value is not None:
                values[key] = formatLang(self.env, float(value), currency_obj=currency)
            else:
                values[key] = value
        return values

    def _sentence(self, entry, currency):
        """One reason in words: each code has its sentence, translated (user guide, "Why")."""
        _ = self.env._
        v = self._format(entry, currency)
        code = entry["code"]
        if code == "action" and entry.get("count") == 1:
            return _("Level “%(level)s” is due: the reminder asks for %(amount)s (one item, net of "
                     "%(credits)s of unapplied credits; the level's minimum is %(minimum)s).", **v)
        if code == "action":
            return _("Level “%(level)s” is due: the reminder asks for %(amount)s (%(count)s items, net of "
                     "%(credits)s of unapplied credits; the level's minimum is %(minimum)s).", **v)
        if code == "manual":
            return _("Sent by hand by a collector, at level “%(level)s”; what the rules said at that moment "
                     "follows.", **v)
        if code == "excluded":
            return _("The customer is marked “Do Not Follow Up”: nothing is sent.")
        if code == "nothing_due":
            return _("Nothing open to follow up (balance %(total_due)s).", **v)
        if code == "postponed":
            if v.get("note"):
                return _("A collector postponed the follow-up until %(until)s (%(note)s); the next step falls "
                         "due on %(next)s.", **v)
            return _("A collector postponed the follow-up until %(until)s; the next step falls due on %(next)s.",
                     **v)
        if code == "paused":
            if v.get("next"):
                return _("Every late invoice is paused (see each invoice below); the next step falls due on "
                         "%(next)s.", **v)
            return _("Every late invoice is paused until further notice (see each invoice below).")
        if code == "waiting":
            return _("No invoice reaches its next level today; the next one falls due on %(next)s.", **v)
        if code == "covered_by_credits":
            return _("Unapplied credits of %(credits)s cover the %(amount)s level “%(level)s” would ask for: "
                     "no reminder.", **v)
        if code == "below_minimum":
            return _("Level “%(level)s” would ask for %(amount)s, below its minimum of %(minimum)s: no "
                     "reminder.", **v)
        if code == "policy":
            if v.get("chosen_by") == "customer":
                return _("Policy “%(policy)s”, chosen on the customer.", **v)
            if v.get("chosen_by") == "segment":
                return _("Policy “%(policy)s”, the policy of the customer's segment “%(segment)s”.", **v)
            return _("Policy “%(policy)s”, the company's default policy.", **v)
        if code == "hold":
            return _("On credit hold since %(hold_date)s: %(note)s.", **v)
        if code == "contact_wait":
            return _("The contact rules make the scheduler wait until %(when)s (customer's time, %(tz)s): "
                     "%(reasons)s.", **v)
        return self._item_sentence(entry, v)

    def _short_sentence(self, entry, currency):
        """The customer's outcome in a few words (the worklist's column)."""
        _ = self.env._
        v = self._format(entry, currency)
        code = entry["code"]
        texts = {
            "action": lambda: _("“%(level)s” due: %(amount)s", **v),
            "excluded": lambda: _("Excluded"),
            "nothing_due": lambda: _("Nothing due"),
            "postponed": lambda: _("Postponed to %(until)s", **v),
            "paused": lambda: _("Paused, next step on %(next)s", **v) if v.get("next") else _("Paused"),
            "waiting": lambda: _("Next level on %(next)s", **v),
            "covered_by_credits": lambda: _("Covered by credits"),
            "below_minimum": lambda: _("Below the minimum of %(minimum)s", **v),
        }
        return texts[code]() if code in texts else ""

    def _item_sentence(self, entry, v):
        _ = self.env._
        code = entry["code"]
        if code == "item_excluded":
            return _("Excluded from follow-up (“No Follow-up” on the invoice).")
        if code == "item_credit":
            return _("Unapplied credit of %(amount)s, deducted from what reminders ask for.", **v)
        if code == "item_exchange":
            return _("%(amount)s left in company currency only: an exchange difference to book, not a debt to "
                     "chase.", **v)
        if code == "item_paused":
            causes = {
                "plan": _("payment plan %s", v.get("cause_name")),
                "promise": _("a promise to pay"),
                "dispute": _("dispute %s", v.get("cause_name")),
                "case": _("agency or legal case %s", v.get("cause_name")),
                "settlement": _("settlement %s", v.get("cause_name")),
                "deferral": _("a deferral"),
            }
            if entry.get("cause") == "payment":
                # cause_name: "<date>|<label>" of the payment seen (collections_payment_seen)
                seen_on, _sep, label = (v.get("cause_name") or "").partition("|")
                return _("%(days_late)s days late: payment seen on %(date)s (%(label)s), waiting to be matched.",
                         days_late=v["days_late"], date=seen_on, label=label or "-")
            v["cause"] = causes.get(entry.get("cause"), causes["deferral"])
            if v.get("until"):
                return _("%(days_late)s days late, paused by %(cause)s until %(until)s.", **v)
            return _("%(days_late)s days late, paused by %(cause)s until further notice.", **v)
        if code == "item_due":
            if entry.get("last_reminder") and entry.get("gap"):
                return _("%(days_late)s days late: reaches level “%(level)s” (%(delay)s days after the due date) "
                         "today, %(gap)s days after the reminder of %(last_reminder)s.", **v)
            return _("%(days_late)s days late: reaches level “%(level)s” (%(delay)s days after the due date) "
                     "today.", **v)
        if code == "item_wait_delay":
            if entry.get("days_late", 0) <= 0:
                return _("Due on %(due_date)s: level “%(level)s” (%(delay)s days from the due date) falls due on "
                         "%(on)s.", **v)
            return _("%(days_late)s days late: level “%(level)s” (%(delay)s days after the due date) falls due "
                     "on %(on)s.", **v)
        if code == "item_wait_gap":
            return _("%(days_late)s days late: level “%(level)s” waits %(gap)s days after the reminder of "
                     "%(last_reminder)s, until %(on)s.", **v)
        if code == "item_last_level":
            return _("%(days_late)s days late, at the last level “%(level)s”: no further reminder.", **v)
        if code == "item_listed":
            return _("%(days_late)s days late: listed in the “%(level)s” reminder, without moving to a new level.",
                     **v)
        return ""

    @api.model
    def _render(self, lines, empty=None):
        """The sentences as an HTML list (QWeb: escaped)."""
        return self.env["ir.qweb"]._render("collections_followup.collections_why_list", {
            "lines": lines, "empty": empty,
        })
