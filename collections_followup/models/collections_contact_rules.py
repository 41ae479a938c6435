from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..engine.contact import next_step_contact, normalize_phone
from ..engine.errors import RuleError

# Channels sent at a moment, under the contact rules (letters go by post, calls are tasks).
TIMED_CHANNELS = {"email", "sms"}
# Contact history channels as the engine names them.
HISTORY_CHANNELS = {"email": "email", "sms": "sms", "letter": "letter", "phone": "call"}


class CollectionsContactRules(models.AbstractModel):
    """The contact rules as the run, the wizards, the preview and the reasons apply them: the customer's
    opt-outs, its time zone and contact history, when the policy's rules next allow a channel, and why."""

    _name = "collections.contact.rules"
    _description = "Follow-up Contact Rules"

    def _blocked_channels(self, partner, channels, phone_blacklist=None):
        """{channel: reason} of the channels the customer opted out of. ``phone_blacklist``: the
        blacklisted numbers among those of many customers, when the caller read them at once."""
        commercial = partner.commercial_partner_id
        blocked = {}
        if "email" in channels:
            if commercial.collections_no_email:
                blocked["email"] = self.env._("The customer asked not to receive payment reminders by email.")
            elif commercial.email_normalized and commercial.is_blacklisted and not partner._collections_recipients():
                blocked["email"] = self.env._("The customer's email address is on the email blacklist (opted out).")
        if "sms" in channels:
            if commercial.collections_no_sms:
                blocked["sms"] = self.env._("The customer asked not to receive text messages.")
            else:
                number, _error = self._sms_number(commercial)
                if number and (number in phone_blacklist if phone_blacklist is not None else
                               self.env["phone.blacklist"].sudo().search_count([("number", "=", number)], limit=1)):
                    blocked["sms"] = self.env._("The customer's phone number is on the phone blacklist (opted out).")
        if "call" in channels and commercial.collections_no_call:
            blocked["call"] = self.env._("The customer asked not to be called about payments.")
        if "letter" in channels and commercial.collections_no_letter:
            blocked["letter"] = self.env._("The customer asked not to receive reminder letters.")
        return blocked

    def _customer_tz(self, partner):
        return partner.commercial_partner_id.tz or partner.tz or self.env.company.partner_id.tz or "UTC"

    def _contact_history(self, partner, since):
        """[(engine channel, aware datetime)] of the reminders and calls that reached the customer since ``since``."""
        return self._contact_histories(partner.commercial_partner_id.ids, since)[partner.commercial_partner_id.id]

    def _contact_histories(self, partner_ids, since):
        """{commercial partner id: its _contact_history} for many customers, one query."""
        actions = self.env["collections.action"].sudo().search_fetch([
            ("partner_id", "in", list(partner_ids)), ("company_id", "=", self.env.company.id),
            ("state", "=", "done"), ("channel", "in", list(HISTORY_CHANNELS)), ("date", ">=", since),
        ], ["partner_id", "channel", "date"])
        histories = {partner_id: [] for partner_id in partner_ids}
        for action in actions:
            histories[action.partner_id.id].append(
                (HISTORY_CHANNELS[action.channel], action.date.replace(tzinfo=timezone.utc)))
        return histories

    def _batch_reads(self, customers, policies, moment):
        """What applying the rules to many customers reads, one query each: {"histories": their contact
        histories (as long as the longest window of ``policies``' contact rules; None when none has rules),
        "blacklist": which of their phone numbers are on Odoo's phone blacklist}."""
        histories = None
        rules = [rule for rule in (policy._contact_policy() for policy in policies) if rule]
        if rules and customers:
            histories = self._contact_histories(customers.ids, min(self._history_since(rule, moment) for rule in rules))
        numbers = {number for number, _error in (self._sms_number(customer) for customer in customers) if number}
        # sudo: which of these numbers opted out.
        blacklist = set(self.env["phone.blacklist"].sudo().search([("number", "in", list(numbers))]).mapped(
            "number")) if numbers else set()
        return {"histories": histories, "blacklist": blacklist}

    def _history_since(self, rules, moment):
        """From when a customer's contact history matters to ``rules`` at ``moment`` (naive UTC): the caps'
        window or the minimum gap, whichever is longer, and a day more."""
        lookback = max(timedelta(days=rules.window_days), timedelta(hours=rules.min_gap_hours))
        return (moment - lookback - timedelta(days=1)).replace(tzinfo=None)

    def _rules_wait(self, partner, policy, channels, now=None, history=None):
        """None when the policy's contact rules allow ``channels`` at ``now``, else
        (allowed instant, local time string, tz, reasons as text). ``history``: the customer's
        contact history when the caller read it for many customers (long enough: older entries
        change nothing)."""
        rules = policy._contact_policy()
        if not rules:
            return None
        moment = (now or fields.Datetime.now()).replace(tzinfo=timezone.utc)
        tz = self._customer_tz(partner)
        # History long enough for both the caps' window and the minimum gap.
        since = self._history_since(rules, moment)
        try:
            if history is None:
                history = self._contact_history(partner, since)
            allowed, reasons = next_step_contact(moment, tz, rules, channels, history)
        except RuleError as error:
            raise UserError(self.env._(
                "The contact rules of policy '%(policy)s' cannot be applied: %(error)s", policy=policy.name,
                error=error,
            )) from error
        if allowed <= moment:
            return None
        # In the user's date format (as every date the collector reads), the hour on 24 hours.
        moment_there = allowed.astimezone(ZoneInfo(tz))
        local = f"{format_date(self.env, moment_there.date())} {moment_there.strftime('%H:%M')}"
        why = "; ".join(self._reason_text(channel, reason, rules) for channel, reason in reasons)
        return allowed, local, tz, why

    def _why_contact_wait(self, partner, policy, level, now=None, history=None):
        """The contact rules' wait of ``level``'s timed channels now, as a reason's values (or None).
        ``history``: see _rules_wait."""
        channels = {name for name, flag in (("email", level.send_email), ("sms", level.send_sms)) if flag}
        channels &= TIMED_CHANNELS
        if not channels or not policy:
            return None
        try:
            wait = self._rules_wait(partner, policy, channels, now, history=history)
        except UserError:
            return None
        if not wait:
            return None
        _allowed, local, tz, why = wait
        return {"when": local, "tz": tz, "reasons": why}

    def _contact_rules_say(self, partner, policy, channels, now=None):
        """A sentence for collectors when the scheduler's contact rules would make ``channels`` wait now."""
        try:
            wait = self._rules_wait(partner, policy, channels, now)
        except UserError as error:
            return str(error)
        if not wait:
            return False
        _allowed, local, tz, why = wait
        return self.env._(
            "Contact rules: the scheduler would wait until %(when)s (customer's time, %(tz)s): %(reasons)s.",
            when=local, tz=tz, reasons=why,
        )

    def _reason_text(self, channel, reason, rules):
        texts = {
            "day": self.env._("not a contact day"),
            "hours": self.env._("outside the contact hours (%(start)s-%(end)s)",
                                start=rules.start.strftime("%H:%M"), end=rules.end.strftime("%H:%M")),
            "cap": self.env._("%(channel)s cap of %(cap)s in %(days)s days reached", channel=channel,
                              cap=dict(rules.caps).get(channel, 0), days=rules.window_days),
            "gap": self.env._("less than %s hours since the last reminder", rules.min_gap_hours),
        }
        return texts.get(reason, reason)

    def _sms_number(self, partner):
        """(E.164 number, error code) of the customer's phone, read with its country (else the company's)."""
        commercial = partner.commercial_partner_id
        contact = commercial.child_ids.filtered(lambda c: c.type == "invoice" and c.phone and c.active)[:1]
        number = commercial.phone or contact.phone
        country = commercial.country_id or self.env.company.country_id
        return normalize_phone(number, country.code)
