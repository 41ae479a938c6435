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
* Nothing is sent when the amount concerned is below the level's minimum,
  when the customer is excluded, postponed, or owes nothing net of credits.
* Items excluded from follow-up (Odoo's ``no_followup``) are neither listed
  nor counted.
* Items paused (covered by an active payment plan, an open promise to pay, or
  deferred) are counted in the totals but neither listed nor advanced until
  the pause ends (``paused_until``; ``date.max`` means until further notice).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from .aging import days_late
from .errors import RuleError

STATUS_NONE = "none"
STATUS_ACTION = "action"
STATUS_WAITING = "waiting"
STATUS_EXCLUDED = "excluded"


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


# Items are NamedTuples, not frozen dataclasses: a run builds one per open invoice and a
# frozen dataclass's __init__ cost a seventh of the decision phase on 200,000 invoices (make bench).
class OpenItem(NamedTuple):
    """One open receivable document (an invoice, or any entry left open)."""

    move_id: int
    due_date: date
    residual: Decimal
    reached_delay: int | None = None
    last_reminder_date: date | None = None
    excluded: bool = False
    paused_until: date | None = None


class ItemDecision(NamedTuple):
    move_id: int
    days_late: int
    residual: Decimal
    target_level_id: int | None
    next_date: date | None


@dataclass(frozen=True)
class PartnerDecision:
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


def _reached_index(levels, reached_delay):
    """Index of the last level whose delay is at most the reached delay (-1: none).

    Working from the delay, not the level id, keeps items placed correctly
    when a customer changes policy or levels are edited."""
    if reached_delay is None:
        return -1
    index = -1
    for i, level in enumerate(levels):
        if level.delay <= reached_delay:
            index = i
    return index


def _item_next(levels, item, late):
    """(index of the next level, date it falls due) for one item."""
    reached = _reached_index(levels, item.reached_delay)
    nxt = reached + 1
    # Reminders meant for before the due date are pointless once it has passed.
    while nxt < len(levels) and levels[nxt].delay <= 0 < late:
        nxt += 1
    if nxt >= len(levels):
        return None, None
    when = item.due_date + timedelta(days=levels[nxt].delay)
    if reached >= 0 and item.last_reminder_date:
        gap = levels[nxt].delay - levels[reached].delay
        when = max(when, item.last_reminder_date + timedelta(days=gap))
    return nxt, when


def decide_partner(levels, items, today, postponed_until=None, excluded=False) -> PartnerDecision:
    """Decide what to do today for one customer.

    ``levels``: Level records of the customer's policy (any order).
    ``items``: OpenItem records of the customer's open receivables.
    """
    levels = sorted(levels, key=lambda level: level.delay)
    decisions = []
    total_due = Decimal(0)
    total_overdue = Decimal(0)
    oldest = 0
    due_indexes = {}
    followed = set()
    paused = False
    for item in items:
        residual = _dec(item.residual)
        total_due += residual
        late = days_late(item.due_date, today)
        if item.excluded or residual <= 0:
            decisions.append(ItemDecision(item.move_id, late, residual, None, None))
            continue
        if late > 0:
            total_overdue += residual
            oldest = max(oldest, late)
        nxt, when = _item_next(levels, item, late)
        if item.paused_until and item.paused_until >= today:
            paused = True
            if item.paused_until == date.max or when is None:
                when = None
            else:
                when = max(when, item.paused_until + timedelta(days=1))
            decisions.append(ItemDecision(item.move_id, late, residual, None, when))
            continue
        followed.add(item.move_id)
        target = None
        if nxt is not None and when <= today:
            target = levels[nxt].id
            due_indexes[item.move_id] = nxt
        decisions.append(ItemDecision(item.move_id, late, residual, target, when))

    future = [d.next_date for d in decisions if d.next_date and d.next_date > today]
    next_date = min(future) if future else None

    def result(status, level_id=None, advancing=(), listed=(), next_action=next_date, reason=""):
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
        )

    if excluded:
        return result(STATUS_EXCLUDED, next_action=None, reason="excluded")
    if total_due <= 0:
        return result(STATUS_NONE, next_action=None, reason="nothing_due")
    if postponed_until and postponed_until > today:
        pending = [d.next_date for d in decisions if d.next_date]
        if not pending:
            return result(STATUS_NONE, next_action=None, reason="nothing_due")
        return result(STATUS_WAITING, next_action=max(postponed_until, min(pending)), reason="postponed")
    if not due_indexes:
        if next_date:
            return result(STATUS_WAITING, reason="paused" if paused and not followed else "waiting")
        if paused:
            return result(STATUS_WAITING, next_action=None, reason="paused")
        return result(STATUS_NONE, next_action=None, reason="nothing_due")

    level = levels[max(due_indexes.values())]
    window = min(level.delay, 1)
    listed = [
        d for d in decisions
        if d.move_id in due_indexes or (d.move_id in followed and d.days_late >= window)
    ]
    concerned = sum((d.residual for d in listed), Decimal(0))
    concerned = min(concerned, total_due)
    if concerned < _dec(level.min_amount):
        return result(STATUS_NONE, next_action=None, reason="below_minimum")
    return result(
        STATUS_ACTION,
        level_id=level.id,
        advancing=sorted(due_indexes),
        listed=sorted(d.move_id for d in listed),
        next_action=today,
    )

