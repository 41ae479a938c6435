"""The run's decisions on a day ahead: every daily run from today to that day, each reminder sent.

A preview of the run for a date D must not decide on today's levels: a customer reminded tomorrow
is at a higher level the day after. ``decide_ahead`` replays the daily runs from ``start`` to D in
memory with ``decide_partner`` (the one implementation), advancing the items each run reminds as
the run does (an item reaching a level records it and the day: collections.run._advance), and
assuming nothing is paid, postponed or paused meanwhile. It decides only on the days something can
change (the next date of an item, the end of a postponement, an item late enough to be listed),
not on every day of the window.
"""
from datetime import date, timedelta

from .levels import STATUS_ACTION, Ladder, decide_partner

ONE_DAY = timedelta(days=1)


def _advance(items, decision, delays, day):
    """The items after ``decision`` was executed on ``day``: those reaching a level record it
    (decision.items holds one decision per item, in their order)."""
    return [
        item._replace(reached_delay=delays[decided.target_level_id], last_reminder_date=day)
        if decided.target_level_id else item
        for item, decided in zip(items, decision.items, strict=True)
    ]


def _next_event(items, decision, day, postponed_until, windows):
    """The first day after ``day`` on which the decision may change (None: never, all else equal): an
    item's next level falls due, a pause or a postponement ends, or an item becomes late enough to be
    listed with a level (``windows``: the days late from which a level lists an item)."""
    dates = [item.next_date for item in decision.items if item.next_date and item.next_date > day]
    dates.extend(item.paused_until + ONE_DAY for item in items
                 if item.paused_until and day <= item.paused_until < date.max)
    for item in decision.items:
        dates.extend(day + timedelta(days=window - item.days_late) for window in windows if window > item.days_late)
    if postponed_until and postponed_until > day:
        dates.append(postponed_until)  # postponed while the day is before it (decide_partner)
    return min(dates) if dates else None


def decide_ahead(levels, items, start, day, postponed_until=None, excluded=False, explain=True):
    """(decision on the day before ``day``, decision on ``day``, reminders sent from ``start`` to the day
    before) for one customer, as the daily runs from ``start`` would take them. ``day`` >= ``start``.
    ``explain``: the reasons of the decision on ``day`` when a level is due then."""
    ladder = levels if isinstance(levels, Ladder) else Ladder(levels)
    delays = {level.id: level.delay for level in ladder.levels}
    windows = {min(delay, 1) for delay in ladder.delays}
    items = list(items)
    current = start
    sent = 0
    previous = None
    while current < day:
        decision = decide_partner(ladder, items, current, postponed_until, excluded)
        if decision.status == STATUS_ACTION:
            items = _advance(items, decision, delays, current)
            sent += 1
            following = current + ONE_DAY
        else:
            following = _next_event(items, decision, current, postponed_until, windows) or day
        if following >= day:
            previous = decision if current == day - ONE_DAY else None
            break
        current = following
    if previous is None and start < day:
        previous = decide_partner(ladder, items, day - ONE_DAY, postponed_until, excluded)
    final = decide_partner(ladder, items, day, postponed_until, excluded)
    if explain and final.status == STATUS_ACTION:
        # The reasons only for the customers the run of that day acts on (a preview lists only them).
        final = decide_partner(ladder, items, day, postponed_until, excluded, explain=True)
    return previous, final, sent
