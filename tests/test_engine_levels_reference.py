"""decide_partner against a plain statement of the same rules, on random customers.

engine/levels.py is written for speed (it runs once per open invoice of the whole book every
morning). The reference below states each rule the slow, obvious way, one item at a time; the
two must decide alike on every random customer (levels before and after the due date, levels
already reached, late starts, pauses, exclusions, credits, postponements, minimum amounts).
"""
import random
from datetime import date, timedelta
from decimal import Decimal

from collections_followup.engine import EXCHANGE_DIFFERENCE, Ladder, Level, OpenItem, decide_partner

TODAY = date(2026, 3, 31)


def reference_next(levels, item, late):
    """(index of the next level, the day it falls due) of one item, levels sorted by delay."""
    reached = -1
    for index, level in enumerate(levels):
        if item.reached_delay is not None and level.delay <= item.reached_delay:
            reached = index
    nxt = reached + 1
    while nxt < len(levels) and levels[nxt].delay <= 0 < late:
        nxt += 1
    if nxt >= len(levels):
        return None, None
    when = item.due_date + timedelta(days=levels[nxt].delay)
    if reached >= 0 and item.last_reminder_date:
        gap = levels[nxt].delay - levels[reached].delay
        when = max(when, item.last_reminder_date + timedelta(days=gap))
    return nxt, when


def reference_decide(levels, items, today, postponed_until=None, excluded=False):
    """(status, level id, [(move, days late, residual, target level, next date, journal item)], advancing,
    listed, total due, total overdue, oldest days late, next action date, reason)."""
    levels = sorted(levels, key=lambda level: level.delay)
    rows, due, followed = [], {}, set()
    due_rows, followed_rows = set(), set()
    total = overdue = Decimal(0)
    oldest, paused = 0, False
    for item in items:
        residual = Decimal(str(item.residual))
        total += residual
        late = (today - item.due_date).days
        if item.excluded or residual <= 0:
            rows.append((item.move_id, late, residual, None, None, item.line_id))
            continue
        if late > 0:
            overdue += residual
            oldest = max(oldest, late)
        nxt, when = reference_next(levels, item, late)
        if item.paused_until and item.paused_until >= today:
            paused = True
            if item.paused_until == date.max or when is None:
                when = None
            else:
                when = max(when, item.paused_until + timedelta(days=1))
            rows.append((item.move_id, late, residual, None, when, item.line_id))
            continue
        followed.add(item.move_id)
        followed_rows.add(len(rows))
        target = None
        if nxt is not None and when <= today:
            target = levels[nxt].id
            due[item.move_id] = max(nxt, due.get(item.move_id, nxt))
            due_rows.add(len(rows))
        rows.append((item.move_id, late, residual, target, when, item.line_id))
    future = [row[4] for row in rows if row[4] and row[4] > today]
    soonest = min(future) if future else None

    def result(status, level_id=None, advancing=(), listed=(), next_action=soonest, reason=""):
        return (status, level_id, rows, tuple(advancing), tuple(listed), total, overdue, oldest,
                next_action, reason)

    if excluded:
        return result("excluded", next_action=None, reason="excluded")
    if total <= 0:
        return result("none", next_action=None, reason="nothing_due")
    if postponed_until and postponed_until > today:
        pending = [row[4] for row in rows if row[4]]
        if not pending:
            return result("none", next_action=None, reason="nothing_due")
        return result("waiting", next_action=max(postponed_until, min(pending)), reason="postponed")
    if not due:
        if soonest:
            return result("waiting", reason="paused" if paused and not followed else "waiting")
        if paused:
            return result("waiting", next_action=None, reason="paused")
        return result("none", next_action=None, reason="nothing_due")
    level = levels[max(due.values())]
    window = min(level.delay, 1)
    listed = [row for index, row in enumerate(rows)
              if index in due_rows or (index in followed_rows and row[1] >= window)]
    # A credit counts whatever its follow-up flag; an exchange difference is neither debt nor credit.
    credits = sum((-row[2] for row, item in zip(rows, items, strict=True)
                   if row[2] < 0 and item.excluded != EXCHANGE_DIFFERENCE), Decimal(0))
    if level.delay > 0 and overdue - credits <= 0:  # nothing overdue net of the credits: no late reminder
        return result("none", next_action=None, reason="covered_by_credits")
    net = sum((row[2] for row in listed), Decimal(0)) - credits
    if net <= 0:
        return result("none", next_action=None, reason="covered_by_credits")
    if min(net, total) < Decimal(str(level.min_amount)):
        return result("none", next_action=None, reason="below_minimum")
    return result("action", level.id, sorted(due), sorted({row[0] for row in listed}), today)


def random_customer(rng):
    delays = rng.sample(range(-10, 90), rng.randint(0, 5))
    levels = [Level(index + 1, delay, Decimal(rng.choice([0, 0, 100, 1000])), f"L{index}")
              for index, delay in enumerate(delays)]
    items = []
    line_ids = iter(range(1, 100))
    for move_id in range(rng.randint(0, 8)):
        # An invoice on an instalment term: several open items sharing its pause and exclusion, each with
        # the level it reached (often the same as its sibling's, as after a reminder listing both).
        reached = rng.choice([None, None, *delays, rng.randint(-20, 100)])
        last = rng.choice([None, TODAY - timedelta(days=rng.randint(0, 60))])
        excluded = rng.choices([False, True, EXCHANGE_DIFFERENCE], [90, 7, 3])[0]
        paused = rng.choice([None, None, None, date.max, TODAY + timedelta(days=rng.randint(-5, 20))])
        first_due = TODAY + timedelta(days=rng.randint(-150, 40))
        for instalment in range(rng.choice([1, 1, 1, 2, 3])):
            if instalment and rng.random() < 0.5:  # a later instalment at a level of its own
                reached = rng.choice([None, *delays])
                last = rng.choice([None, TODAY - timedelta(days=rng.randint(0, 60))])
            residual = rng.choice([Decimal(rng.randint(-50000, 300000)) / 100, Decimal(0), 250.5])
            items.append(OpenItem(
                move_id=move_id,
                due_date=first_due + timedelta(days=30 * instalment),
                residual=residual,
                reached_delay=reached,
                last_reminder_date=last,
                excluded=excluded,
                paused_until=paused,
                line_id=next(line_ids),
            ))
    postponed = rng.choice([None, None, TODAY + timedelta(days=rng.randint(-3, 10))])
    return levels, items, postponed, rng.random() < 0.03


def test_engine_decides_as_the_reference_on_random_customers():
    rng = random.Random(20261124)
    statuses = set()
    for _case in range(5000):
        levels, items, postponed, excluded = random_customer(rng)
        expected = reference_decide(levels, items, TODAY, postponed, excluded)
        for ladder in (levels, Ladder(levels)):
            decision = decide_partner(ladder, items, TODAY, postponed_until=postponed, excluded=excluded)
            got = (decision.status, decision.level_id, [tuple(row) for row in decision.items],
                   decision.advancing_move_ids, decision.listed_move_ids, decision.total_due,
                   decision.total_overdue, decision.oldest_days_late, decision.next_action_date,
                   decision.reason)
            assert got == expected, (levels, items, postponed, excluded)
        statuses.add((expected[0], expected[9]))
    # The random customers reach every outcome of the rules.
    assert statuses >= {
        ("action", ""), ("none", "nothing_due"), ("none", "below_minimum"), ("none", "covered_by_credits"),
        ("waiting", "waiting"),
        ("waiting", "paused"), ("waiting", "postponed"), ("excluded", "excluded"),
    }


def test_the_reasons_are_those_of_the_same_decision_on_random_customers():
    """explain=True changes nothing of the decision and its reasons say what the reference decided: the
    customer's outcome first, then one reason per open item, each telling the item's own rule."""
    rng = random.Random(20261202)
    codes = set()
    for _case in range(3000):
        levels, items, postponed, excluded = random_customer(rng)
        plain = decide_partner(levels, items, TODAY, postponed_until=postponed, excluded=excluded)
        explained = decide_partner(levels, items, TODAY, postponed_until=postponed, excluded=excluded, explain=True)
        assert plain.trace == ()
        assert explained._replace(trace=()) == plain
        expected = reference_decide(levels, items, TODAY, postponed, excluded)
        head, *per_item = explained.trace
        assert head.code == (expected[9] or "action") and head.move_id is None
        codes.add(head.code)
        if plain.status == "action":
            assert head.values["level_id"] == plain.level_id and head.values["amount"] == plain.net_to_pay
            assert head.values["count"] == len(plain.listed_items)
        # One reason per item that is excluded, a credit or a debt (an item with nothing left says nothing).
        meaningful = [item for item in items if item.excluded or Decimal(str(item.residual))]
        assert [(r.move_id, r.line_id) for r in per_item] == [(i.move_id, i.line_id) for i in meaningful]
        for reason, item, row in zip(per_item, meaningful, (r for r, i in zip(expected[2], items, strict=True)
                                                               if i.excluded or Decimal(str(i.residual))),
                                     strict=True):
            codes.add(reason.code)
            target, when = row[3], row[4]
            if item.excluded == EXCHANGE_DIFFERENCE:
                assert reason.code == "item_exchange"
            elif Decimal(str(item.residual)) < 0:
                assert reason.code == "item_credit" and reason.values["amount"] == -Decimal(str(item.residual))
            elif item.excluded:
                assert reason.code == "item_excluded"
            elif target is not None:
                assert reason.code == "item_due" and reason.values["level_id"] == target
                assert reason.values["days_late"] == row[1]
            elif item.paused_until and item.paused_until >= TODAY:
                assert reason.code == "item_paused"
                assert reason.values["until"] == (None if item.paused_until == date.max else item.paused_until)
            elif when is None:
                assert reason.code in ("item_last_level", "item_listed")
            else:
                assert reason.code in ("item_wait_delay", "item_wait_gap", "item_listed")
                assert reason.values["on"] == when and when > TODAY
            if reason.code == "item_listed":
                assert plain.status == "action" and item.move_id in plain.listed_move_ids
                assert reason.values["level_id"] == plain.level_id
    assert codes >= {
        "action", "nothing_due", "below_minimum", "covered_by_credits", "waiting", "paused", "postponed",
        "excluded", "item_excluded", "item_exchange", "item_credit", "item_paused", "item_due", "item_wait_delay",
        "item_wait_gap", "item_last_level", "item_listed",
    }


def test_deciding_ahead_is_running_every_day():
    """decide_ahead jumps from one day that may change something to the next; running the engine on
    every single day, advancing what each day's reminder reaches, decides the same on the last day."""
    from collections_followup.engine.simulate import decide_ahead

    rng = random.Random(20261203)
    sent_any = False
    for _case in range(1500):
        levels, items, postponed, excluded = random_customer(rng)
        ladder = Ladder(levels)
        delays = {level.id: level.delay for level in levels}
        horizon = rng.randint(1, 30)
        day = TODAY + timedelta(days=horizon)
        state, sent = list(items), 0
        decisions = []
        for offset in range(horizon + 1):
            current = TODAY + timedelta(days=offset)
            decision = decide_partner(ladder, state, current, postponed, excluded)
            decisions.append(decision)
            if current < day and decision.status == "action":
                sent += 1
                state = [item._replace(reached_delay=delays[d.target_level_id], last_reminder_date=current)
                         if d.target_level_id else item for item, d in zip(state, decision.items, strict=True)]
        previous, final, got_sent = decide_ahead(levels, items, TODAY, day, postponed, excluded)
        assert final._replace(trace=()) == decisions[-1], (levels, items, postponed, horizon)
        assert previous == decisions[-2]
        assert got_sent == sent
        sent_any |= sent > 1
    assert sent_any


def test_one_overdue_figure_for_the_screens_and_the_decision():
    """net_overdue (the dashboard's sum of a customer's items) is the decision's own figure."""
    from collections_followup.engine import net_overdue

    rng = random.Random(20261207)
    for _customer in range(2000):
        levels, items, postponed, excluded = random_customer(rng)
        decision = decide_partner(levels, items, TODAY, postponed_until=postponed, excluded=excluded)
        net, late, credits = net_overdue(items, TODAY)
        assert net == decision.net_overdue
        assert (late, credits) == (decision.total_overdue, decision.total_credits)
        assert net >= 0
