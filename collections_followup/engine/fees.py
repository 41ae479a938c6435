"""Late fees and statutory interest.

Rules (documented in README.md, "Late fees and statutory interest"):

* A fee is a fixed amount, a percentage of the overdue amount, or statutory
  interest; an optional cap limits it; an optional fixed compensation is
  added per invoice (the EU Late Payment Directive's 40 EUR).
* Statutory interest is simple interest, per day, on the overdue residual,
  from the day after the due date up to and including the calculation date,
  at the reference rate in force each day plus the margin, actual/365.
  The overdue residual changes with each payment. All arithmetic in Decimal,
  rounded once at the end to the currency's precision (half up).
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from .errors import RuleError

FEE_NONE = "none"
FEE_FIXED = "fixed"
FEE_PERCENT = "percent"
FEE_INTEREST = "interest"


class FeeError(RuleError):
    """A fee cannot be computed as asked."""


@dataclass(frozen=True)
class RatePeriod:
    """Reference rate (percent a year) in force from ``date_from``."""

    date_from: date
    rate: Decimal


@dataclass(frozen=True)
class BalanceChange:
    """From ``date_from`` (included), the invoice's overdue residual is ``amount``."""

    date_from: date
    amount: Decimal


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _round(value, digits):
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _rate_on(rates, day):
    current = None
    for period in rates:
        if period.date_from <= day:
            current = period.rate
        else:
            break
    return current


def statutory_interest(due_date, until, balances, rates, margin, digits=2, year_days=365):
    """Interest on one invoice from the day after ``due_date`` to ``until`` (included).

    ``balances``: BalanceChange list (the residual from each date; the first
    one at or before the day after the due date). ``rates``: RatePeriod list.
    ``margin``: percentage points added to the reference rate."""
    start = due_date + timedelta(days=1)
    if until < start:
        return Decimal(0)
    rates = sorted(rates, key=lambda r: r.date_from)
    if not rates or rates[0].date_from > start:
        raise FeeError("no_rate", f"No reference rate in force on {start}.", day=start)
    balances = sorted(balances, key=lambda b: b.date_from)
    # Dates where the daily interest can change: rate changes and payments.
    breaks = sorted({start, until + timedelta(days=1)}
                    | {r.date_from for r in rates if start < r.date_from <= until}
                    | {b.date_from for b in balances if start < b.date_from <= until})
    margin = _dec(margin)
    total = Decimal(0)
    for begin, end in pairwise(breaks):
        days = (end - begin).days
        balance = Decimal(0)
        for change in balances:
            if change.date_from <= begin:
                balance = _dec(change.amount)
        if balance <= 0:
            continue
        rate = _rate_on(rates, begin) + margin
        total += balance * rate / 100 * days / year_days
    return _round(total, digits)


def late_fee(kind, overdue, digits=2, fixed=0, percent=0, interest=0, cap=None, compensation=0):
    """The fee for one invoice at one level.

    ``interest``: statutory interest already computed (kind 'interest').
    ``cap``: maximum of the fee itself (compensation excluded); None or 0: no cap."""
    overdue = _dec(overdue)
    if overdue <= 0 or kind == FEE_NONE:
        return Decimal(0)
    if kind == FEE_FIXED:
        fee = _dec(fixed)
    elif kind == FEE_PERCENT:
        fee = overdue * _dec(percent) / 100
    elif kind == FEE_INTEREST:
        fee = _dec(interest)
    else:
        raise FeeError("kind", f"Unknown fee kind {kind!r}.", kind=kind)
    if fee < 0:
        raise FeeError("negative", "A fee cannot be negative.")
    if cap:
        fee = min(fee, _dec(cap))
    return _round(fee + _dec(compensation), digits)


def allocate_credits(items, credits):
    """Allocate unapplied credits to open items, oldest due date first, oldest credit first.

    ``items``: (key, due_date, residual) of what is owed; ``credits``: (date, amount > 0) of
    the credits not yet matched. Returns {key: [(credit date, amount allocated), ...]} for
    the items that received something. This is the rule the reminders, fees and interest
    share (README.md, "Unapplied credits"): a credit pays the oldest debt first, from its date."""
    allocations = {}
    queue = [[day, _dec(amount)] for day, amount in sorted(credits, key=lambda c: c[0]) if _dec(amount) > 0]
    for key, _due, residual in sorted(items, key=lambda i: (i[1], str(i[0]))):
        owed = _dec(residual)
        while owed > 0 and queue:
            day, left = queue[0]
            take = min(owed, left)
            allocations.setdefault(key, []).append((day, take))
            owed -= take
            queue[0][1] -= take
            if queue[0][1] <= 0:
                queue.pop(0)
    return allocations


def reduce_balances(balances, allocations):
    """The BalanceChange list of an invoice less the credits allocated to it, each from its date."""
    if not allocations:
        return list(balances)
    balances = sorted(balances, key=lambda b: b.date_from)
    days = sorted({b.date_from for b in balances} | {day for day, _amount in allocations})
    result = []
    for day in days:
        base = Decimal(0)
        for change in balances:
            if change.date_from <= day:
                base = _dec(change.amount)
        applied = sum((_dec(amount) for when, amount in allocations if when <= day), Decimal(0))
        result.append(BalanceChange(day, max(base - applied, Decimal(0))))
    return result
