"""Which follow-up level each open item and each customer is at.

Rules (documented in README.md, "How levels are decided"):

* A policy has levels sorted by ``delay``: days after the due date (negative
  for a courtesy reminder before it).
* Items climb the levels one at a time; a customer never gets the final
  notice for an invoice that never had the earlier reminders. Levels meant
  for before the due date (delay <= 0) are skipped once it has passed. The next level
  of an item is due on the later of

  - its due date + the next level's delay, and
  - its last reminder + the gap between the two levels' delays,

  so that a late start still spaces the reminders as the policy intends.
* A customer gets ONE communication listing all its open items that are late
  (or, for a courtesy reminder, about to fall due); the actions executed are
  those of the highest level among the items that advance today.
* Unapplied credits (credit notes, payments and any other credit on the
  receivable not yet matched) are allocated to the items the reminder lists,
  before anything else: what the reminder asks for is what those items owe
  less the credits. A customer whose credits cover them is not reminded
  (``covered_by_credits``), and a customer whose credits cover everything
  it has overdue gets no late reminder, even with invoices about to fall due.
* Nothing is sent when that net amount is below the level's minimum,
  when the customer is excluded, postponed, or owes nothing net of credits.
* An item is one open receivable journal item: an invoice on an instalment
  payment term gives one item per open instalment, each with its own due
  date, amount and level (``line_id``): a second instalment falling due
  later climbs the levels from the first, spaced from its own due date. An
  instalment not yet late is neither listed nor counted overdue.
* Items excluded from follow-up (Odoo's ``no_followup``, which Odoo sets on
  every journal entry but a payment's: statement lines, opening balances) are
  debts neither listed nor counted overdue; a credit stays a credit whatever
  its flag: excluding removes a debt from the reminders, never a credit from
  what the customer owes net.
* An item whose residual exists in company currency only (its document's
  currency residual is zero), or one of the customer's open items in a foreign
  currency that together owe nothing in it (an invoice and a payment of the
  same euros left unmatched at two rates), is an exchange difference to book
  (``excluded == EXCHANGE_DIFFERENCE``, the ledger's reader says which), not a
  debt to chase nor a credit to offer: it counts in the total due (it is in the
  ledger's balance) and nowhere else.
* Items paused (covered by an active payment plan, an open promise to pay, or
  deferred) are counted in the totals but neither listed nor advanced until
  the pause ends (``paused_until``; ``date.max`` means until further notice).

Why: ``decide_partner(..., explain=True)`` also returns, in ``PartnerDecision.trace``, the
reasons of the decision as data (``Reason``: a code and the values the rule compared), built
by the same pass that decides, so that what a screen or the log says is what the run did.
One reason for the customer (its code is ``decision.reason``, or ``action``) and one per open
item; see ``REASON_CODES``. The run asks for them only for the customers it acts on.
"""
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from .errors import RuleError

STATUS_NONE = "none"
STATUS_ACTION = "action"
STATUS_WAITING = "waiting"
STATUS_EXCLUDED = "excluded"
# OpenItem.excluded of a residual in company currency only (an exchange difference not booked yet).
EXCHANGE_DIFFERENCE = "exchange"


def _dec(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value or 0))


@dataclass(frozen=True)
class Level:
    id: int
    delay: int
    min_amount: Decimal = Decimal(0)
    name: str = ""


# Items and decisions are NamedTuples, not frozen dataclasses: a run builds one per open invoice and a
# frozen dataclass's __init__ cost a seventh of the decision phase on 200,000 invoices (make bench).
class OpenItem(NamedTuple):
    """One open receivable journal item: an invoice, one instalment of it, or any entry left open."""

    move_id: int
    due_date: date
    residual: Decimal
    reached_delay: int | None = None
    last_reminder_date: date | None = None
    excluded: bool | str = False
    """True: excluded from follow-up (a debt is not chased; a credit still counts); EXCHANGE_DIFFERENCE."""
    paused_until: date | None = None
    line_id: int | None = None
    """The journal item (its level is its own: each instalment climbs the levels on its own)."""


class ItemDecision(NamedTuple):
    move_id: int
    days_late: int
    residual: Decimal
    target_level_id: int | None
    next_date: date | None
    line_id: int | None = None


# tuple.__new__(cls, values) builds a NamedTuple without the Python-level __new__ of
# cls(...): one per open invoice of the book (make bench), with their fields in order.
new_tuple = tuple.__new__


class Reason(NamedTuple):
    """Why the engine decided as it did, as data: ``code`` (one of REASON_CODES) and the values
    the rule compared (dates, Decimals, level ids and names, day counts). ``move_id``/``line_id``
    name the item of an item's reason (None for the customer's)."""

    code: str
    values: dict
    move_id: int | None = None
    line_id: int | None = None


REASON_CODES = {
    # The customer's outcome (decision.reason, or "action").
    "action": "a level is due: the reminder lists `count` items, `amount` net of credits (level, minimum)",
    "excluded": "the customer is excluded from follow-up",
    "nothing_due": "nothing open to follow up (total_due)",
    "postponed": "a collector postponed the customer until `until`; next step on `next`",
    "paused": "every late item is paused (by a plan, promise, settlement, dispute, case or deferral)",
    "waiting": "no item's next level is due today; the first falls due on `next`",
    "covered_by_credits": "the unapplied credits (credits) cover what the reminder would list (amount)",
    "below_minimum": "what level would ask for (amount) is below its minimum (minimum)",
    # One per open item.
    "item_excluded": "the item is excluded from follow-up (no_followup)",
    "item_exchange": "`amount` is left in company currency only: an exchange difference to book, not to chase",
    "item_credit": "an unapplied credit of `amount`, deducted from what reminders ask for",
    "item_paused": "paused until `until` (None: until further notice); `days_late` late",
    "item_due": "`days_late` days late reaches level's delay (delay) (and the gap since last_reminder)",
    "item_wait_delay": "`days_late` days late; level (delay days) falls due on `on`",
    "item_wait_gap": "level's delay is reached but `gap` days must pass after last_reminder: on `on`",
    "item_last_level": "the item has reached the last level (level)",
    "item_listed": "listed in the reminder of level, `days_late` days late, without advancing",
}


class PartnerDecision(NamedTuple):
    status: str
    level_id: int | None
    items: tuple
    advancing_move_ids: tuple
    listed_move_ids: tuple
    total_due: Decimal
    total_overdue: Decimal
    oldest_days_late: int
    next_action_date: date | None
    reason: str = ""
    total_credits: Decimal = Decimal(0)
    """Unapplied credits (positive): every open credit item, excluded from follow-up or not."""
    net_to_pay: Decimal = Decimal(0)
    """What the reminder asks for: the listed items less the unapplied credits (0 without action)."""
    listed_items: tuple = ()
    """(move_id, days late) of each item the reminder lists: an invoice, or each listed instalment of it."""
    trace: tuple = ()
    """With explain=True: the Reasons of the decision, the customer's first, then one per item."""

    @property
    def net_overdue(self) -> Decimal:
        """The customer's one overdue figure: its late debts followed up less all its unapplied credits,
        never below zero. Every screen, reminder, hold and KPI shows this figure."""
        return max(self.total_overdue - self.total_credits, Decimal(0))


class LevelConfigError(RuleError):
    """The levels of a policy cannot be used as configured."""


def validate_levels(levels) -> None:
    """Raise LevelConfigError when the levels cannot be used."""
    delays = [level.delay for level in levels]
    duplicates = sorted({d for d in delays if delays.count(d) > 1})
    if duplicates:
        days = ", ".join(map(str, duplicates))
        raise LevelConfigError(
            "duplicate_delay",
            f"Two levels of a policy cannot share the same delay ({days} days).",
            days=days,
        )
    for level in levels:
        if _dec(level.min_amount) < 0:
            raise LevelConfigError(
                "negative_minimum",
                f"The minimum amount of level '{level.name}' cannot be negative.",
                level=level.name,
            )


def _by_delay(level):
    return level.delay


class Ladder:
    """A policy's levels prepared for deciding many customers: sorted by delay, with the
    delays for bisection and as timedeltas. Build it once per policy (decide_partner also
    accepts the plain list of levels)."""

    __slots__ = ("delays", "first_late", "levels", "steps")

    def __init__(self, levels):
        self.levels = sorted(levels, key=_by_delay)
        self.delays = [level.delay for level in self.levels]
        self.steps = [timedelta(days=delay) for delay in self.delays]
        # Reminders meant for before the due date are pointless once it has passed.
        self.first_late = bisect_right(self.delays, 0)


def _level_values(level):
    return {"level_id": level.id, "level": level.name, "delay": level.delay}


def decide_partner(levels, items, today, postponed_until=None, excluded=False, explain=False) -> PartnerDecision:
    """Decide what to do today for one customer.

    ``levels``: Level records of the customer's policy (any order), or their Ladder.
    ``items``: OpenItem records of the customer's open receivables.

    Runs once per open invoice of the whole book every morning (make bench: 200,000
    invoices), hence written for speed: the levels' delays are looked up by bisection,
    the items unpacked as tuples, and the next action date kept as the loop goes.
    ``explain``: also fill ``trace`` with the Reasons (module docstring).
    """
    ladder = levels if isinstance(levels, Ladder) else Ladder(levels)
    levels, delays, steps, first_late = ladder.levels, ladder.delays, ladder.steps, ladder.first_late
    count = len(delays)
    decisions = []
    append = decisions.append
    total_due = Decimal(0)
    total_overdue = Decimal(0)
    credits = Decimal(0)
    oldest = 0
    next_date = None
    due_indexes = {}
    due_items = set()
    followed = set()
    followed_items = set()
    paused = False
    reasons = [] if explain else None
    for move_id, due_date, amount, reached_delay, last_reminder, item_excluded, paused_until, line_id in items:
        residual = amount if amount.__class__ is Decimal else _dec(amount)
        total_due += residual
        late = (today - due_date).days
        if item_excluded or residual <= 0:
            exchange = item_excluded == EXCHANGE_DIFFERENCE
            if residual < 0 and not exchange:
                credits -= residual
            if explain and (item_excluded or residual):
                code = "item_exchange" if exchange else "item_credit" if residual < 0 else "item_excluded"
                reasons.append(Reason(
                    code, {"amount": -residual if residual < 0 else residual, "days_late": late}, move_id, line_id,
                ))
            append(new_tuple(ItemDecision, (move_id, late, residual, None, None, line_id)))
            continue
        if late > 0:
            total_overdue += residual
            oldest = max(oldest, late)
        # The last level reached (by its delay, not its id: items stay placed correctly when a
        # customer changes policy or levels are edited), then the next one and when it falls due:
        # the later of the due date + its delay and the last reminder + the gap between the two.
        reached = -1 if reached_delay is None else bisect_right(delays, reached_delay) - 1
        nxt = reached + 1
        if late > 0 and nxt < first_late:
            nxt = first_late
        if nxt < count:
            when = due_date + steps[nxt]
            if reached >= 0 and last_reminder:
                when = max(when, last_reminder + (steps[nxt] - steps[reached]))
        else:
            nxt = when = None
        if paused_until and paused_until >= today:
            paused = True
            if paused_until == date.max or when is None:
                when = None
            else:
                when = max(when, paused_until + timedelta(days=1))
            nxt = None
        else:
            followed.add(move_id)
            followed_items.add(len(decisions))
        target = None
        if nxt is not None and when <= today:
            target = levels[nxt].id
            due_indexes[move_id] = max(nxt, due_indexes.get(move_id, nxt))
            due_items.add(len(decisions))
        elif when is not None and when > today and (next_date is None or when < next_date):
            next_date = when
        if explain:
            reasons.append(_item_reason(
                levels, reached, nxt, when, today, move_id, line_id, due_date, late, last_reminder,
                paused_until if nxt is None and paused_until and paused_until >= today else None,
            ))
        append(new_tuple(ItemDecision, (move_id, late, residual, target, when, line_id)))

    def result(status, level_id=None, advancing=(), listed=(), next_action=next_date, reason="", net=Decimal(0),
               listed_items=(), why=None):
        trace = ()
        if explain:
            trace = (Reason(reason or status, why or {}), *reasons)
        return PartnerDecision(
            status=status,
            level_id=level_id,
            items=tuple(decisions),
            advancing_move_ids=tuple(advancing),
            listed_move_ids=tuple(listed),
            total_due=total_due,
            total_overdue=total_overdue,
            oldest_days_late=oldest,
            next_action_date=next_action,
            reason=reason,
            total_credits=credits,
            net_to_pay=net,
            listed_items=listed_items,
            trace=trace,
        )

    if excluded:
        return result(STATUS_EXCLUDED, next_action=None, reason="excluded")
    if total_due <= 0:
        return result(STATUS_NONE, next_action=None, reason="nothing_due", why={"total_due": total_due})
    if postponed_until and postponed_until > today:
        pending = [d.next_date for d in decisions if d.next_date]
        if not pending:
            return result(STATUS_NONE, next_action=None, reason="nothing_due", why={"total_due": total_due})
        return result(STATUS_WAITING, next_action=max(postponed_until, min(pending)), reason="postponed",
                      why={"until": postponed_until, "next": max(postponed_until, min(pending))})
    if not due_indexes:
        if next_date:
            if paused and not followed:
                return result(STATUS_WAITING, reason="paused", why={"next": next_date})
            return result(STATUS_WAITING, reason="waiting", why={"next": next_date})
        if paused:
            return result(STATUS_WAITING, next_action=None, reason="paused", why={"next": None})
        return result(STATUS_NONE, next_action=None, reason="nothing_due", why={"total_due": total_due})

    level = levels[max(due_indexes.values())]
    if level.delay > 0 and total_overdue - credits <= 0:
        # Nothing is overdue net of the credits (the customer's one overdue figure is zero): no late reminder,
        # whatever falls due soon (a courtesy reminder alone may still go out when only courtesy is due).
        return result(STATUS_NONE, next_action=None, reason="covered_by_credits",
                      why=dict(_level_values(level), amount=total_overdue, credits=credits))
    window = min(level.delay, 1)
    # Each item on its own: those whose reminder is due today (a courtesy reminder due with a later
    # level's goes in the same communication) and those late enough for the chosen level; an
    # instalment not yet due is not listed with the late one of its invoice.
    listed = [
        d for index, d in enumerate(decisions)
        if index in due_items or (index in followed_items and d.days_late >= window)
    ]
    listed_total = sum((d.residual for d in listed), Decimal(0))
    concerned = listed_total - credits
    if concerned <= 0:
        return result(STATUS_NONE, next_action=None, reason="covered_by_credits",
                      why=dict(_level_values(level), amount=listed_total, credits=credits))
    concerned = min(concerned, total_due)
    if concerned < _dec(level.min_amount):
        return result(STATUS_NONE, next_action=None, reason="below_minimum",
                      why=dict(_level_values(level), amount=concerned, minimum=_dec(level.min_amount)))
    if explain:
        _note_listed(reasons, listed, level)
    return result(
        STATUS_ACTION,
        level_id=level.id,
        advancing=sorted(due_indexes),
        listed=sorted({d.move_id for d in listed}),
        next_action=today,
        net=concerned,
        listed_items=tuple((d.move_id, d.days_late) for d in listed),
        why=dict(_level_values(level), amount=concerned, credits=credits, count=len(listed),
                 minimum=_dec(level.min_amount)),
    )


def net_overdue(items, today) -> tuple:
    """(net overdue, late debts followed up, unapplied credits) of a customer's OpenItems, by decide_partner's
    rules (an excluded debt is not chased, a credit always counts, an exchange difference is neither), for the
    screens that sum a customer's items without deciding its level (the dashboard)."""
    overdue = credits = Decimal(0)
    for item in items:
        residual = _dec(item.residual)
        if item.excluded == EXCHANGE_DIFFERENCE:
            continue
        if residual < 0:
            credits -= residual
        elif not item.excluded and (today - item.due_date).days > 0:
            overdue += residual
    return max(overdue - credits, Decimal(0)), overdue, credits


def _item_reason(levels, reached, nxt, when, today, move_id, line_id, due_date, late, last_reminder, paused_until):
    """The Reason of one item, from the values decide_partner computed for it."""
    values = {"days_late": late, "due_date": due_date}
    if reached >= 0:
        values["reached"] = levels[reached].name
    if paused_until is not None:
        values.update(until=None if paused_until == date.max else paused_until, on=when)
        return Reason("item_paused", values, move_id, line_id)
    if nxt is None:
        values.update(_level_values(levels[reached]) if reached >= 0 else {})
        return Reason("item_last_level", values, move_id, line_id)
    level = levels[nxt]
    values.update(_level_values(level), on=when, last_reminder=last_reminder)
    by_delay = due_date + timedelta(days=level.delay)
    gap = level.delay - levels[reached].delay if reached >= 0 else 0
    if when <= today:
        return Reason("item_due", dict(values, gap=gap), move_id, line_id)
    if when > by_delay:
        return Reason("item_wait_gap", dict(values, gap=gap), move_id, line_id)
    return Reason("item_wait_delay", values, move_id, line_id)


def _note_listed(reasons, listed, level):
    """Mark the items the reminder lists without advancing them (late enough for the chosen level)."""
    listed_lines = {(d.move_id, d.line_id) for d in listed}
    for index, reason in enumerate(reasons):
        if (reason.move_id, reason.line_id) in listed_lines and reason.code in (
                "item_wait_delay", "item_wait_gap", "item_last_level"):
            reasons[index] = Reason("item_listed", dict(reason.values, **_level_values(level)),
                                    reason.move_id, reason.line_id)
