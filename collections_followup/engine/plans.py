"""Payment plans and promises to pay.

Rules (documented in README.md, "Payment plans and promises"):

* A plan spreads an amount over a down payment and ``count`` instalments
  falling due every week, every two weeks or every month from a first date.
  Monthly dates are counted from the first date (31 January, 28 or 29
  February, 31 March...), so a plan never drifts to the 28th.
* Amounts are rounded down to the currency's precision; the rounding
  remainder goes on the last instalment, so the instalments always add up to
  the plan total exactly.
* Optional interest is simple, per day, on the principal still owed between
  two due dates (actual/365), rounded per instalment.
* Money received on the covered invoices pays the instalments oldest first.
  An instalment still unpaid ``grace_days`` after its due date breaks the plan.
* A promise is kept when the payments since it was given reach the promised
  amount by the promised date plus the grace days, broken after that.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from .errors import RuleError

FREQUENCIES = {
    "weekly": relativedelta(weeks=1),
    "biweekly": relativedelta(weeks=2),
    "monthly": relativedelta(months=1),
}

PLAN_CURRENT = "current"
PLAN_BROKEN = "broken"
PLAN_COMPLETED = "completed"

PROMISE_OPEN = "open"
PROMISE_KEPT = "kept"
PROMISE_BROKEN = "broken"


class PlanError(RuleError):
    """A plan cannot be built as asked."""


@dataclass(frozen=True)
class Instalment:
    sequence: int
    due_date: date
    amount: Decimal
    interest: Decimal = Decimal(0)


@dataclass(frozen=True)
class InstalmentState:
    sequence: int
    due_date: date
    amount: Decimal
    paid: Decimal
    remaining: Decimal
    state: str  # paid / partial / open / late


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _quantum(digits):
    return Decimal(1).scaleb(-digits)


def schedule_dates(first_date, count, frequency):
    """Due dates of ``count`` instalments from ``first_date``."""
    if frequency not in FREQUENCIES:
        raise PlanError("frequency", f"Unknown frequency {frequency!r}.", frequency=frequency)
    step = FREQUENCIES[frequency]
    # Always from the first date (not from the previous instalment) so that
    # 31 January -> 28 February -> 31 March, not 28 March.
    return [first_date + step * i for i in range(count)]


def plan_schedule(total, first_date, count, frequency, down_payment=0, down_payment_date=None,
                  annual_rate=0, start_date=None, digits=2):
    """Instalments of a plan; the down payment (if any) is instalment 1.

    ``total`` is the amount the plan covers (principal); interest at
    ``annual_rate`` percent is added on top, computed from ``start_date``
    (default: the down payment date, else the first date)."""
    total = _dec(total)
    down = _dec(down_payment)
    rate = _dec(annual_rate)
    q = _quantum(digits)
    if count < 1:
        raise PlanError("count", "A plan needs at least one instalment.")
    if total <= 0:
        raise PlanError("total", "A plan needs an amount to pay.")
    if down < 0 or down >= total:
        raise PlanError("down_payment", "The down payment must be positive and less than the plan total.")
    if rate < 0:
        raise PlanError("rate", "The interest rate cannot be negative.")
    if down and not down_payment_date:
        raise PlanError("down_payment_date", "A down payment needs a date.")
    if down_payment_date and down_payment_date > first_date:
        raise PlanError("down_payment_date", "The down payment is due before the first instalment.")

    dates = schedule_dates(first_date, count, frequency)
    financed = total - down
    share = (financed / count).quantize(q, rounding=ROUND_DOWN)
    principals = [share] * (count - 1) + [financed - share * (count - 1)]

    rows = []
    if down:
        rows.append((down_payment_date, down))
    rows += list(zip(dates, principals, strict=True))

    start = start_date or rows[0][0]
    owed = total
    previous = start
    instalments = []
    for sequence, (due, principal) in enumerate(rows, start=1):
        interest = Decimal(0)
        if rate:
            days = max((due - previous).days, 0)
            interest = (owed * rate / 100 * days / 365).quantize(q, rounding=ROUND_HALF_UP)
        instalments.append(Instalment(sequence, due, principal + interest, interest))
        owed -= principal
        previous = due
    return tuple(instalments)


def validate_schedule(instalments, total, digits=2):
    """Check a schedule typed by hand: dates in order, amounts positive, sum = total."""
    q = _quantum(digits)
    if not instalments:
        raise PlanError("count", "A plan needs at least one instalment.")
    previous = None
    for inst in instalments:
        if _dec(inst.amount) <= 0:
            raise PlanError("amount", f"Instalment {inst.sequence} has no amount.", sequence=inst.sequence)
        if previous and inst.due_date <= previous:
            raise PlanError("order", f"Instalment {inst.sequence} falls due before the one above it.",
                            sequence=inst.sequence)
        previous = inst.due_date
    principal = sum((_dec(i.amount) - _dec(i.interest) for i in instalments), Decimal(0))
    if principal.quantize(q) != _dec(total).quantize(q):
        raise PlanError("sum", f"The instalments add up to {principal}, the plan covers {total}.",
                        scheduled=principal, total=total)


def allocate(instalments, paid, today, grace_days=0):
    """Spread the amount ``paid`` over the instalments, oldest first."""
    left = _dec(paid)
    states = []
    for inst in sorted(instalments, key=lambda i: (i.due_date, i.sequence)):
        amount = _dec(inst.amount)
        applied = min(max(left, Decimal(0)), amount)
        left -= applied
        remaining = amount - applied
        if remaining <= 0:
            state = "paid"
        elif today > inst.due_date:
            state = "late"
        elif applied:
            state = "partial"
        else:
            state = "open"
        states.append(InstalmentState(inst.sequence, inst.due_date, amount, applied, remaining, state))
    return tuple(states)


def plan_status(states, today, grace_days=0):
    """current, broken (an instalment unpaid past its grace days) or completed."""
    if all(s.remaining <= 0 for s in states):
        return PLAN_COMPLETED
    grace = timedelta(days=grace_days)
    if any(s.remaining > 0 and today > s.due_date + grace for s in states):
        return PLAN_BROKEN
    return PLAN_CURRENT


def reminders_due(states, today, days_before):
    """Sequences of the unpaid instalments whose reminder should go out today:
    those falling due within ``days_before`` days (and not yet late)."""
    horizon = today + timedelta(days=days_before)
    return tuple(s.sequence for s in states if s.remaining > 0 and today <= s.due_date <= horizon)


def promise_status(amount, promised_date, paid, today, grace_days=0):
    """open, kept or broken for a promise of ``amount`` by ``promised_date``."""
    if _dec(paid) >= _dec(amount):
        return PROMISE_KEPT
    if today > promised_date + timedelta(days=grace_days):
        return PROMISE_BROKEN
    return PROMISE_OPEN


def kept_rate(kept, broken):
    """Share of settled promises that were kept, in percent (None: no history)."""
    settled = kept + broken
    if not settled:
        return None
    return (Decimal(kept) * 100 / settled).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
