"""Contact rules: when a customer may be contacted, in its own time zone.

Rules (to be documented in README.md with the contact rules of the policy):

* A contact is allowed on the policy's week days, between its start and end
  hours, in the customer's time zone (the customer's, else the company's).
  Local times are turned into instants with ``zoneinfo``, so a window keeps
  its local hours across daylight-saving changes.
* At most ``cap`` contacts per channel in any rolling window of
  ``window_days`` days, and at least ``min_gap_hours`` between two.
* A contact that breaks a rule is postponed to the first moment that breaks
  none, with the reason; it is never dropped.
* Phone numbers are normalised to E.164 with ``phonenumbers``, using the
  customer's country for numbers written without a country code.
"""
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import phonenumbers

from .errors import RuleError

REASON_DAY = "day"
REASON_HOURS = "hours"
REASON_CAP = "cap"
REASON_GAP = "gap"


@dataclass(frozen=True)
class ContactRules:
    weekdays: frozenset = field(default_factory=lambda: frozenset(range(5)))  # Monday = 0
    start: time = time(9, 0)
    end: time = time(18, 0)
    cap: int = 0  # 0: no cap
    window_days: int = 7
    min_gap_hours: float = 0


def _local(moment, tz):
    return moment.astimezone(tz)


def _allowed_now(moment, tz, rules):
    local = _local(moment, tz)
    if local.weekday() not in rules.weekdays:
        return REASON_DAY
    if not rules.start <= local.time() < rules.end:
        return REASON_HOURS
    return None


def _next_window_start(moment, tz, rules):
    """First instant at or after ``moment`` inside the allowed days and hours."""
    local = _local(moment, tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in rules.weekdays:
            continue
        opening = datetime.combine(day, rules.start, tzinfo=tz)
        # A start time that does not exist that day (clocks jump forward over it)
        # resolves to the same wall time after the jump.
        opening = opening.astimezone(timezone.utc).astimezone(tz)
        closing = datetime.combine(day, rules.end, tzinfo=tz)
        if moment < closing.astimezone(timezone.utc) and moment >= opening.astimezone(timezone.utc):
            return moment
        if moment < opening.astimezone(timezone.utc):
            return opening.astimezone(timezone.utc)
    raise RuleError("no_window", "The contact rules allow no day of the week.")


def next_contact(moment, tz_name, rules, history=()):
    """(instant, reasons) of the first allowed contact at or after ``moment``.

    ``moment`` and ``history`` (earlier contacts on the same channel) are
    aware datetimes; ``reasons`` lists why the contact was postponed (empty
    when it may happen at ``moment``)."""
    if not rules.weekdays:
        raise RuleError("no_window", "The contact rules allow no day of the week.")
    if rules.start >= rules.end:
        raise RuleError("hours", "The contact hours end before they start.")
    try:
        tz = ZoneInfo(tz_name or "UTC")
    except (KeyError, ValueError) as error:
        raise RuleError("tz", f"Unknown time zone {tz_name!r}.", tz=tz_name) from error
    moment = moment.astimezone(timezone.utc)
    history = sorted(h.astimezone(timezone.utc) for h in history)
    reasons = []
    candidate = moment
    for _round in range(50):
        changed = False
        if rules.min_gap_hours and history:
            earliest = history[-1] + timedelta(hours=rules.min_gap_hours)
            if candidate < earliest:
                candidate, changed = earliest, True
                reasons.append(REASON_GAP)
        if rules.cap:
            window = timedelta(days=rules.window_days)
            recent = [h for h in history if candidate - window < h <= candidate]
            if len(recent) >= rules.cap:
                candidate, changed = recent[len(recent) - rules.cap] + window, True
                reasons.append(REASON_CAP)
        reason = _allowed_now(candidate, tz, rules)
        if reason:
            candidate, changed = _next_window_start(candidate, tz, rules), True
            reasons.append(reason)
        if not changed:
            return candidate, tuple(dict.fromkeys(reasons))
    raise RuleError("no_slot", "No moment satisfies the contact rules.")


def normalize_phone(number, country_code=None):
    """(E.164 number, None) or (None, error code: 'empty' / 'invalid')."""
    if not (number or "").strip():
        return None, "empty"
    try:
        parsed = phonenumbers.parse(number, (country_code or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None, "invalid"
    if not phonenumbers.is_valid_number(parsed):
        return None, "invalid"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None


@dataclass(frozen=True)
class ContactPolicy:
    """A follow-up policy's contact rules for all channels.

    ``caps``: {channel: most contacts in ``window_days``} (0 or absent: no cap).
    ``min_gap_hours``: least time between two reminders, whatever their channel."""

    weekdays: frozenset = field(default_factory=lambda: frozenset(range(5)))
    start: time = time(9, 0)
    end: time = time(18, 0)
    caps: tuple = ()  # ((channel, cap), ...): hashable, so the policy can be cached
    window_days: int = 7
    min_gap_hours: float = 0

    def rules(self, channel=None, gap=False):
        return ContactRules(
            weekdays=self.weekdays, start=self.start, end=self.end,
            cap=dict(self.caps).get(channel, 0) if channel else 0, window_days=self.window_days,
            min_gap_hours=self.min_gap_hours if gap else 0,
        )


def next_step_contact(moment, tz_name, policy, channels, history=()):
    """(instant, reasons) at which every channel of one follow-up step may be used.

    A step (say an email and an SMS of the same level) goes out together: the
    instant is the first one at which each channel's cap, the gap since the
    last reminder on any channel, and the contact hours all allow it.
    ``history``: (channel, aware datetime) of earlier reminders. ``reasons``:
    ((channel, reason), ...) of what postponed the step, empty when it may go now."""
    by_channel = {}
    for channel, instant in history:
        by_channel.setdefault(channel, []).append(instant)
    everything = [instant for _channel, instant in history]
    candidate = moment.astimezone(timezone.utc)
    reasons = []
    for _round in range(20):
        start = candidate
        for channel in sorted(channels):
            candidate, found = next_contact(candidate, tz_name, policy.rules(channel), by_channel.get(channel, ()))
            reasons.extend((channel, reason) for reason in found)
        candidate, found = next_contact(candidate, tz_name, policy.rules(gap=True), everything)
        reasons.extend(("all", reason) for reason in found)
        if candidate == start:
            return candidate, tuple(dict.fromkeys(reasons))
    raise RuleError("no_slot", "No moment satisfies the contact rules.")
