"""Paid histories by behaviour, to measure the forecast on (make bench, the engine tests).

Each customer is invoiced twice a month for two years, 30 days' terms, and pays by one behaviour:

=============  ====================================================================
on_time        a few days either side of the due date
late           habitually about 25 days late
erratic        anything from 5 days early to 80 days late
worse          on time two years ago, about 50 days late now
seasonal       on time, but about 35 days late on what falls due in July, August
               and December
partial        half about 10 days late, the rest about 45 days late
never          a fifth paid about 60 days late, the rest written off 180 days late
=============  ====================================================================

Only what happened by ``today`` is in a History (the future is not known); deterministic for a seed.
"""
import random
from datetime import timedelta

from .forecast import History

BEHAVIOURS = ("on_time", "late", "erratic", "worse", "seasonal", "partial", "never")
# How often each behaviour is drawn (most customers pay, a few never do).
MIX = (30, 20, 12, 12, 10, 10, 6)


def delays(behaviour, due, start, rng):
    """[(delay in days, share of the amount)] of one invoice; a None delay: written off (never paid)."""
    if behaviour == "on_time":
        return [(round(rng.gauss(-1, 3)), 1.0)]
    if behaviour == "late":
        return [(round(rng.gauss(25, 6)), 1.0)]
    if behaviour == "erratic":
        return [(rng.randint(-5, 80), 1.0)]
    if behaviour == "worse":
        progress = min(max((due - start).days / 730, 0.0), 1.0)
        return [(round(rng.gauss(2 + 48 * progress, 5)), 1.0)]
    if behaviour == "seasonal":
        late = due.month in (7, 8, 12)
        return [(round(rng.gauss(35 if late else 2, 4)), 1.0)]
    if behaviour == "partial":
        return [(round(rng.gauss(10, 3)), 0.5), (round(rng.gauss(45, 6)), 0.5)]
    return [(round(rng.gauss(60, 10)), 1.0)] if rng.random() < 0.2 else [(None, 1.0)]


def book(customers, today, seed=20261207, months=24, first_id=1):
    """(histories, {customer: behaviour}) of ``customers`` customers, invoiced for ``months`` months before
    ``today``."""
    histories, behaviours = [], {}
    for chunk, kinds in book_chunks(customers, today, seed, months, first_id):
        histories += chunk
        behaviours.update(kinds)
    return histories, behaviours


def book_chunks(customers, today, seed=20261207, months=24, first_id=1, size=1000):
    """The same book as ``book``, ``size`` customers at a time: (histories, {customer: behaviour}) per chunk
    (generated anew each time it is iterated: the engine's chunked source)."""
    rng = random.Random(seed)
    start = today - timedelta(days=round(months * 30.4))
    histories, behaviours = [], {}
    key = 0
    for customer in range(first_id, first_id + customers):
        behaviour = rng.choices(BEHAVIOURS, MIX)[0]
        behaviours[customer] = behaviour
        scale = rng.choice((300, 1200, 5000))
        issued = start + timedelta(days=rng.randint(0, 14))
        while issued <= today:
            amount = round(scale * rng.lognormvariate(0, 0.5), 2)
            due = issued + timedelta(days=30)
            payments, closed = [], []
            for delay, share in delays(behaviour, due, start, rng):
                part = round(amount * share, 2)
                if delay is None:
                    when = due + timedelta(days=180)
                    if when <= today:
                        closed.append((when, part))
                    continue
                when = max(due + timedelta(days=delay), issued)
                if when <= today:
                    payments.append((when, part))
            key += 1
            histories.append(History(customer, amount, due, issued, tuple(payments), tuple(closed), key))
            issued += timedelta(days=15)
        if len(behaviours) >= size:
            yield histories, behaviours
            histories, behaviours = [], {}
    if behaviours:
        yield histories, behaviours
