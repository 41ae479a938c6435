"""Try a policy on the past: the daily runs of a period replayed on the ledger's real history.

``replay`` takes the receivable items of a period as they happened (when each was issued, when it
fell due, and each payment or credit applied to it, with its date) and decides, customer by customer,
every day of the period with ``decide_partner`` (the one implementation), as the daily run would
have: the open items of the morning are those issued and not yet paid the day before; each reminder
advances what it reaches, as the run does. It counts what the policy would have done: reminders per
level and channel, fees charged, customers put on hold, and the reminders that were needless (every
item listed was paid within ``paid_within`` days anyway).

Not replayed: what people did (postponements, plans, promises, disputes: the history has no pauses),
contact rules (a reminder is counted on its day), statutory interest (rates per day: fixed and
percentage fees are counted, interest is not) and payments the reminders themselves would have
brought (the same payments on both sides: a comparison of policies, not a forecast).
It decides only on the days something can change for a customer (an item issued, paid, falling
due or reaching a level's date), not on every day of the year.
"""
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from .fees import late_fee
from .levels import STATUS_ACTION, Ladder, OpenItem, decide_partner, new_tuple

ONE_DAY = timedelta(days=1)


class PastItem(NamedTuple):
    """A receivable item as it happened: issued on ``issued``, due on ``due_date``, for ``amount`` (company
    currency, negative for a credit), settled by ``payments``: ((date, amount), ...) in the same sign."""

    partner_id: int
    move_id: int
    line_id: int
    issued: date
    due_date: date
    amount: Decimal
    payments: tuple = ()
    excluded: bool = False


class LevelRules(NamedTuple):
    """What a level does, for counting: its channels and its fee (engine.fees.late_fee's terms)."""

    channels: tuple = ("email",)
    credit_hold: bool = False
    fee_type: str = "none"
    fee_fixed: Decimal = Decimal(0)
    fee_percent: Decimal = Decimal(0)
    fee_cap: Decimal | None = None


class Replay(NamedTuple):
    reminders: Counter  # {level id: count}
    channels: Counter  # {(level id, channel): count}
    fees: Decimal
    holds: int  # customers put on hold
    needless: int  # reminders whose every listed item was paid within ``paid_within`` days anyway
    customers: int  # customers reminded at least once
    decisions: int  # decide_partner calls (the replay's cost)


def _residual(item, day):
    """What is left of ``item`` on the morning of ``day`` (payments dated before it)."""
    paid = sum((amount for when, amount in item.payments if when < day), Decimal(0))
    return item.amount - paid


def _paid_by(item, day):
    return _residual(item, day + ONE_DAY) <= 0 if item.amount > 0 else True


def replay(levels, rules, history, start, end, paid_within=7, digits=2, every_day=False):
    """Replay the daily runs from ``start`` to ``end`` (inclusive) of ``levels`` (engine Levels, or
    their Ladder) with ``rules`` ({level id: LevelRules}) on ``history`` (PastItems of any customers).
    The levels every item had reached before ``start`` are not known: items start with none.
    ``every_day``: decide on every day instead of jumping between the days that can change something
    (the tests' reference: both must count the same)."""
    ladder = levels if isinstance(levels, Ladder) else Ladder(levels)
    delays = {level.id: level.delay for level in ladder.levels}
    windows = sorted({min(delay, 1) for delay in ladder.delays})
    by_partner = defaultdict(list)
    for item in history:
        if item.issued <= end:
            by_partner[item.partner_id].append(item)
    reminders, channels = Counter(), Counter()
    fees = Decimal(0)
    holds = needless = reached_customers = calls = 0
    for items in by_partner.values():
        state = {item.line_id: (None, None) for item in items}  # line -> (reached delay, last reminder)
        events = {max(item.issued, start) for item in items}
        events |= {when + ONE_DAY for item in items for when, _amount in item.payments if start <= when < end}
        on_hold = contacted = False
        day = start if every_day else min(events) if events else end + ONE_DAY
        while day <= end:
            open_items = []
            for item in items:
                if item.issued > day:
                    continue
                residual = _residual(item, day)
                if not residual:
                    continue
                reached, last = state[item.line_id]
                open_items.append(new_tuple(OpenItem, (
                    item.move_id, item.due_date, residual, reached, last, item.excluded, None, item.line_id)))
            decision = decide_partner(ladder, open_items, day)
            calls += 1
            following = None
            if decision.status == STATUS_ACTION:
                level_rules = rules.get(decision.level_id, LevelRules())
                reminders[decision.level_id] += 1
                for channel in level_rules.channels:
                    channels[decision.level_id, channel] += 1
                contacted = True
                if level_rules.credit_hold and not on_hold:
                    on_hold = True
                    holds += 1
                listed = {move_id for move_id, _late in decision.listed_items}
                if all(_paid_by(item, day + timedelta(days=paid_within))
                       for item in items if item.move_id in listed and item.amount > 0):
                    needless += 1
                # As the run charges them: each invoice reaching a level with a fee, on what is late of it.
                charged = set()
                for item_decision in decision.items:
                    target = item_decision.target_level_id
                    if not target:
                        continue
                    state[item_decision.line_id] = (delays[target], day)
                    terms = rules.get(target, LevelRules())
                    if terms.fee_type in ("fixed", "percent") and (item_decision.move_id, target) not in charged:
                        charged.add((item_decision.move_id, target))
                        late = sum((_residual(item, day) for item in items if item.move_id == item_decision.move_id
                                    and item.amount > 0 and item.due_date < day), Decimal(0))
                        if late > 0:
                            fees += late_fee(terms.fee_type, late, digits, fixed=terms.fee_fixed,
                                             percent=terms.fee_percent, cap=terms.fee_cap)
                following = day + ONE_DAY
            else:
                dates = [d.next_date for d in decision.items if d.next_date and d.next_date > day]
                dates += [day + timedelta(days=window - d.days_late) for d in decision.items
                          for window in windows if window > d.days_late]
                following = min(dates) if dates else None
            later = [event for event in events if event > day]
            if following:
                later.append(following)
            following = min(later) if later else None
            day = day + ONE_DAY if every_day else following or end + ONE_DAY
        reached_customers += contacted
    return Replay(reminders, channels, fees, holds, needless, reached_customers, calls)
