"""Payment behaviour over the last twelve months, and the credit limit it supports.

Inputs are the customer's invoices of the last 12 months: paid ones with the
day they were fully paid, open ones counted as late up to today.

* weighted days late: days late (0 if paid on time) weighted by amount;
* on-time share: share of the amount paid (or still open) by its due date;
* worst delay: the most days late of any invoice;
* trend: weighted days late of the last 3 months minus that of the 9 months
  before (positive: getting worse).

Proposed limit (README.md, "Credit review"): the customer's average monthly
invoicing times a number of months set by its behaviour, rounded up to the
next 100:

=====================================================  ========
behaviour                                              months
=====================================================  ========
on time >= 90 % and weighted delay <= 5 days           3
on time >= 70 % and weighted delay <= 15 days          2
weighted delay <= 30 days                              1
otherwise                                              0.5
an invoice 90 days late or more                        0 (cash)
=====================================================  ========

A trend worse by more than 10 days moves one row down. No invoice in the
period: no proposal.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from .levels import _dec

STEPS = (Decimal(3), Decimal(2), Decimal(1), Decimal("0.5"), Decimal(0))


@dataclass(frozen=True)
class Invoice:
    amount: Decimal
    invoice_date: date
    due_date: date
    paid_date: date | None  # None: still open


@dataclass(frozen=True)
class Behaviour:
    invoice_count: int
    amount: Decimal
    weighted_days_late: Decimal
    on_time_share: Decimal
    worst_days_late: int
    trend: Decimal


def _late(invoice, today):
    end = invoice.paid_date or today
    return max((end - invoice.due_date).days, 0)


def _weighted(invoices, today):
    total = sum((_dec(i.amount) for i in invoices), Decimal(0))
    if not total:
        return Decimal(0)
    return sum((_dec(i.amount) * _late(i, today) for i in invoices), Decimal(0)) / total


def payment_behaviour(invoices, today) -> Behaviour | None:
    invoices = [i for i in invoices if _dec(i.amount) > 0 and i.invoice_date > today - timedelta(days=365)]
    if not invoices:
        return None
    total = sum((_dec(i.amount) for i in invoices), Decimal(0))
    on_time = sum((_dec(i.amount) for i in invoices if _late(i, today) == 0), Decimal(0))
    recent = [i for i in invoices if i.invoice_date > today - timedelta(days=91)]
    older = [i for i in invoices if i not in recent]
    trend = _weighted(recent, today) - _weighted(older, today) if recent and older else Decimal(0)
    return Behaviour(
        invoice_count=len(invoices),
        amount=total,
        weighted_days_late=_weighted(invoices, today).quantize(Decimal("0.1")),
        on_time_share=(on_time / total).quantize(Decimal("0.01")),
        worst_days_late=max(_late(i, today) for i in invoices),
        trend=trend.quantize(Decimal("0.1")),
    )


def propose_limit(behaviour: Behaviour | None) -> Decimal | None:
    if behaviour is None:
        return None
    if behaviour.worst_days_late >= 90:
        step = len(STEPS) - 1
    elif behaviour.on_time_share >= Decimal("0.9") and behaviour.weighted_days_late <= 5:
        step = 0
    elif behaviour.on_time_share >= Decimal("0.7") and behaviour.weighted_days_late <= 15:
        step = 1
    elif behaviour.weighted_days_late <= 30:
        step = 2
    else:
        step = 3
    if behaviour.trend > 10:
        step = min(step + 1, len(STEPS) - 1)
    monthly = behaviour.amount / 12
    limit = monthly * STEPS[step]
    return (limit / 100).to_integral_value(rounding=ROUND_CEILING) * 100


# ---------------------------------------------------------------------------
# Score and segment (README.md, "Segments")
#
# score = 100
#         - 40 x (1 - on-time share)
#         - 30 x min(weighted days late, 60) / 60
#         - 10 x min(trend, 30) / 30          (only when getting worse)
#         - 5 per broken promise, at most 10
#         - 2.5 per dispute, at most 10
# clamped to 0..100 and rounded; no invoice in the last 12 months: no score.
# ---------------------------------------------------------------------------

DEFAULT_SEGMENTS = ((80, "reliable"), (60, "occasionally_late"), (35, "chronically_late"), (0, "high_risk"))


def behaviour_score(behaviour: Behaviour | None, broken_promises=0, disputes=0) -> int | None:
    if behaviour is None:
        return None
    score = Decimal(100)
    score -= 40 * (1 - _dec(behaviour.on_time_share))
    score -= 30 * min(_dec(behaviour.weighted_days_late), Decimal(60)) / 60
    if behaviour.trend > 0:
        score -= 10 * min(_dec(behaviour.trend), Decimal(30)) / 30
    score -= min(Decimal(5) * broken_promises, Decimal(10))
    score -= min(Decimal("2.5") * disputes, Decimal(10))
    return int(max(Decimal(0), min(Decimal(100), score)).to_integral_value())


def segment_for(score, thresholds=DEFAULT_SEGMENTS):
    """Name of the first segment whose minimum score the score reaches (None: no score)."""
    if score is None:
        return None
    for minimum, name in sorted(thresholds, reverse=True):
        if score >= minimum:
            return name
    return None


def usual_delay(behaviour: Behaviour | None) -> int:
    """Days late the customer usually pays (amount-weighted, rounded); 0 without history."""
    return int(_dec(behaviour.weighted_days_late).to_integral_value()) if behaviour else 0


def predicted_payment_date(due_date, behaviour_or_delay, today):
    """Due date plus the customer's usual (weighted) delay, never before today.

    ``behaviour_or_delay``: a Behaviour, or the usual delay in days already worked out."""
    if isinstance(behaviour_or_delay, Behaviour) or behaviour_or_delay is None:
        delay = usual_delay(behaviour_or_delay)
    else:
        delay = int(behaviour_or_delay)
    return max(due_date + timedelta(days=delay), today)
