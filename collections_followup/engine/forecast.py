"""When each open item will be paid, a 13-week cash forecast with its band, and how right it was.

The model a collector can read in one sentence ("pays 12 days late on average, 80 % within 30 days of the
due date"): for each customer, the share of its invoiced amounts still unpaid d days after their due date,
S(d), from its own paid history (a Kaplan-Meier curve weighted by amount and by recency: an invoice due a
half-life ago counts half), where

* a payment (one of Odoo's partial reconciliations: a part paid on a date) is an event at its delay;
* an amount still open is "not paid by its age" (censored: it says nothing of later days);
* an amount closed without cash (credit note, write-off) is never paid: it stays in S for ever;

shrunk toward its segment's curve, that toward the company's, and the company's toward "paid on the due date"
(what a company without paid history is forecast by), each as much as it has little history (weight n / (n +
PRIOR) for n invoices, recency-weighted; an open invoice counts as far as it is late). Past the last delay a
customer's history saw, what it still had open there pays as its pool pays past that age (an on-time payer's
first late invoice is not "never paid"). An open item ``a`` days
late is conditioned on its age: P(paid by day d | not paid by day a) = 1 - S(d) / S(a), so an invoice 60 days
late is not expected on the customer's average delay. Its expected date is the day by which half of what such a
history pays past that age is paid (the date if it is paid; how likely it is paid at all is its p30 / p60 /
p90); none when nothing of the history was paid past that age; never in the past.

The forecast of a week is the expected amount (each item's amount times its probability of being paid that
week, summed: the weekly totals are the sums of the items' contributions); the band (p10, p90) takes each
customer's items as moving together (a customer pays its invoices in one go) and the customers as
independent: mean -/+ 1.2816 standard deviations, never below zero.

``backtest`` measures it on the company's own ledger: as of each month-end it reads the history as it stood
that day, predicts, and compares with what then happened, beside two baselines (the due date, the
customer's average delay): per-item mean absolute error in days, weekly cash-in error (WAPE) over the next
13 weeks, and the Brier score of "paid within 30 days".
"""
import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from operator import neg

EARLIEST = -60  # paid up to 60 days before the due date
LATEST = 365  # not paid within a year of its due date: not expected
HALF_LIFE_DAYS = 180
PRIOR = 5.0  # a customer with 5 invoices of history is half its own, half its segment's
Z90 = 1.2815515655446004  # standard normal quantile of 0.9
WEEKS = 13


@dataclass(frozen=True, slots=True)
class History:
    """One receivable of the ledger (an invoice or an instalment) with what became of it."""

    customer: int
    amount: float
    due_date: date
    issued: date
    payments: tuple = ()
    """((date, amount), ...): parts paid (partial reconciliations with money)."""
    closed: tuple = ()
    """((date, amount), ...): parts closed without money (credit notes, write-offs)."""
    key: int | None = None
    """What the forecast item refers to (a journal item id)."""

    def open_at(self, day):
        """What is still open at the end of ``day`` (0 before it was issued)."""
        if self.issued > day:
            return 0.0
        settled = sum(amount for when, amount in self.payments + self.closed if when <= day)
        return max(self.amount - settled, 0.0)

    def paid_on(self, day_after, until):
        """[(date, amount)] paid after ``day_after`` and on or before ``until``."""
        return [(when, amount) for when, amount in self.payments if day_after < when <= until]


class Curve:
    """S(d): share of the amount still unpaid d days after the due date (step function: S at ``days``), from
    weighted observations. ``weight``: the history it stands on, in recency-weighted invoices."""

    __slots__ = ("days", "horizon", "mean_delay", "never", "survival", "weight")

    def __init__(self, days=(), survival=(), weight=0.0, mean_delay=0.0, horizon=LATEST, never=1.0):
        self.days, self.survival, self.weight, self.mean_delay = list(days), list(survival), weight, mean_delay
        self.horizon = horizon
        """The last delay the history saw anything at (a payment, an amount still open): S says nothing past it."""
        self.never = never
        """Of what is still unpaid past the horizon, the share closed without money (never paid); the rest is
        amounts still open there, whose fate past it the history does not know."""

    def s(self, delay):
        index = bisect_right(self.days, delay) - 1
        return 1.0 if index < 0 else self.survival[index]

    def dense(self):
        """S on every day of the grid (``grid``): one list, read by index."""
        values = [1.0] * SIZE
        for number, (day, value) in enumerate(zip(self.days, self.survival, strict=True)):
            end = grid(self.days[number + 1]) if number + 1 < len(self.days) else SIZE
            start = grid(day)
            values[start:end] = [value] * (end - start)
        return values


# The grid of delays S is read on: index 0 is "before EARLIEST" (nothing is paid earlier), the last is LATEST and
# after. A customer's curve is a list on it: a reading is an index, no search.
OFFSET = EARLIEST - 1
SIZE = LATEST - OFFSET + 1
LAST = SIZE - 1


def grid(delay):
    index = delay - OFFSET
    return 0 if index < 0 else LAST if index > LAST else index


def _clamp(delay):
    return EARLIEST if delay < EARLIEST else delay


class Pool:
    """What a set of observations says, summed by delay (a customer's, a segment's, the company's): the
    observations themselves are not kept. ``add`` takes [(kind, delay, mass, invoice weight)] with kind "paid"
    (an event at ``delay``), "open" (not paid by ``delay``) or "never" (closed without money)."""

    __slots__ = ("events", "leaving", "never", "paid_delay", "paid_mass", "total", "weight")

    def __init__(self):
        self.events, self.leaving = {}, {}
        self.total = self.weight = self.paid_mass = self.paid_delay = self.never = 0.0

    def add(self, observations):
        events, leaving = self.events, self.leaving
        for kind, observed, mass, invoice_weight in observations:
            self.weight += invoice_weight
            if mass <= 0:
                continue
            self.total += mass
            delay = _clamp(observed)
            if kind == "paid":
                if delay > LATEST:
                    leaving[LATEST] = leaving.get(LATEST, 0.0) + mass
                else:
                    events[delay] = events.get(delay, 0.0) + mass
                    self.paid_mass += mass
                    self.paid_delay += mass * max(delay, 0)
            elif kind == "open":
                delay = min(delay, LATEST)
                leaving[delay] = leaving.get(delay, 0.0) + mass
            else:  # "never": at risk for ever, no event
                self.never += mass
        return self

    def merge(self, other):
        """Add what ``other`` holds (a customer's pool into its segment's and company's: its sums, not its
        observations again)."""
        for mine, theirs in ((self.events, other.events), (self.leaving, other.leaving)):
            for day, mass in theirs.items():
                mine[day] = mine.get(day, 0.0) + mass
        self.total += other.total
        self.weight += other.weight
        self.paid_mass += other.paid_mass
        self.paid_delay += other.paid_delay
        self.never += other.never
        return self

    def curve(self):
        """The Kaplan-Meier curve of what was added."""
        days, survival = [], []
        at_risk, s = self.total, 1.0
        after_last_event = self.total  # at risk just after the last payment: what the tail past the horizon is
        for day in sorted(set(self.events) | set(self.leaving)):
            happened = self.events.get(day, 0.0)
            if happened and at_risk > 0:
                s *= max(1.0 - happened / at_risk, 0.0)
                days.append(day)
                survival.append(s)
                after_last_event = at_risk - happened
            at_risk -= happened + self.leaving.get(day, 0.0)
        horizon = max(set(self.events) | set(self.leaving), default=EARLIEST)
        return Curve(days, survival, self.weight, self.paid_delay / self.paid_mass if self.paid_mass else 0.0,
                     horizon, min(self.never / after_last_event, 1.0) if after_last_event > 1e-9 else 1.0)


def build_curve(observations):
    """A Curve from ``observations`` (Pool.add's)."""
    return Pool().add(observations).curve()


DUE_DATE = Curve([0], [0.0], 0.0, 0.0)
"""Everything paid on its due date: the prior of a company's curve (weight PRIOR)."""


class Mixed(Curve):
    """A curve worked out on the grid: a customer's shrunk toward its pool, a pool toward the next. ``values``: S
    at each index of the grid."""

    __slots__ = ("values",)

    def __init__(self, values, weight=0.0):
        super().__init__((), (), weight)
        self.values = values

    def s(self, delay):
        return self.values[grid(delay)]

    def dense(self):
        return self.values

    def first_at_most(self, after, threshold):
        """The first day after ``after`` where S is at most ``threshold`` (S never rises), or None."""
        index = bisect_left(self.values, -threshold, grid(after) + 1, SIZE, key=neg)
        return index + OFFSET if index < SIZE else None


def shrink(own, pool):
    """``own`` toward ``pool`` (a Curve or a Mixed): S = k S_own + (1 - k) S_pool, as much its own (k) as its
    history weighs. Past its horizon, of what ``own`` still had unpaid, the share closed without money is never
    paid and the rest (amounts still open there: an on-time payer's first late invoice) pays as ``pool`` pays past
    that age. Without it an on-time payer's invoice 5 days late would be "never paid": its own history stops at
    the day it always paid on."""
    pool_values = pool.dense()
    if own is None or own.weight <= 0:
        return pool if isinstance(pool, Mixed) else Mixed(pool_values, pool.weight)
    share = own.weight / (own.weight + PRIOR)
    rest = 1.0 - share
    own_values = own.dense()
    end = grid(own.horizon) + 1 if own.horizon < LATEST else SIZE
    values = [share * mine + rest * theirs for mine, theirs in zip(own_values[:end], pool_values[:end], strict=True)]
    if end < SIZE:
        start, pool_start = own_values[end - 1], pool_values[end - 1]
        if start > 1e-12 and pool_start > 1e-12:
            # S = k start (never + (1 - never) S_pool / pool_start) + (1 - k) S_pool
            fixed, slope = share * start * own.never, share * start * (1.0 - own.never) / pool_start + rest
            values += [fixed + slope * theirs for theirs in pool_values[end:]]
        else:
            values += [share * start + rest * theirs for theirs in pool_values[end:]]
    return Mixed(values, share * own.weight + rest * pool.weight)


def _observations(history, day):
    """What ``history`` tells as of the end of ``day`` (none before it was issued)."""
    if history.issued > day:
        return ()
    age_days = (day - history.due_date).days
    recency = 0.5 ** (max(age_days, 0) / HALF_LIFE_DAYS)
    remaining = history.open_at(day)
    # What the invoice tells of the customer, for how much its own curve is trusted: all once settled; an open
    # one only as far as it is late (not due yet: nothing; 90 days late or more: all).
    known = 1.0 if remaining <= 0 else min(max(age_days, 0) / 90, 1.0)
    rows = [("open", 0, 0.0, recency * known)]
    share = recency  # each part weighs its amount, less as it is older
    for when, amount in history.payments:
        if when <= day:
            rows.append(("paid", (when - history.due_date).days, amount * share, 0.0))
    for when, amount in history.closed:
        if when <= day:
            rows.append(("never", 0, amount * share, 0.0))
    if remaining > 0:
        rows.append(("open", age_days, remaining * share, 0.0))
    return rows


@dataclass
class Model:
    """The curves of a company as of a day: per customer (its own, unshrunk), per segment, the company's. A
    customer's shrunk curve is worked out when asked for (the last one kept: callers go customer by customer),
    so that memory does not grow with the customers."""

    day: date
    company: Curve
    segments: dict = field(default_factory=dict)
    own: dict = field(default_factory=dict)

    pools: dict = field(default_factory=dict)
    last: tuple = (None, None)

    def pool(self, segment=None):
        """The segment's curve shrunk toward the company's, the company's toward the due date (paid on its due
        date: what a company without paid history is forecast by, the contractual series)."""
        pool = self.pools.get(segment)
        if pool is None:
            if segment is None or segment not in self.segments:
                pool = shrink(self.company, DUE_DATE)
            else:
                pool = shrink(self.segments[segment], self.pool(None))
            self.pools[segment] = pool
        return pool

    def curve(self, customer, segment=None):
        key, mixed = self.last
        if key != (customer, segment):
            mixed = shrink(self.own.get(customer), self.pool(segment))
            self.last = ((customer, segment), mixed)
        return mixed

    def sentence(self, customer, segment=None):
        """(average days late, share paid within 30 days of the due date, history weight) of the customer."""
        own = self.own.get(customer)
        mixed = self.curve(customer, segment)
        return (round(own.mean_delay if own and own.weight else self.company.mean_delay),
                1.0 - mixed.s(30), own.weight if own else 0.0)


def _chunks(source):
    """The histories of ``source`` in chunks, each customer's in one chunk: ``source`` is a list of histories
    (one chunk) or a callable that gives the chunks anew each time (the ledger read a few thousand customers at a
    time: memory does not grow with the book)."""
    return source() if callable(source) else [source]


def _by_customer(histories):
    grouped = {}
    for history in histories:
        grouped.setdefault(history.customer, []).append(history)
    return grouped


def _own_pool(histories, day):
    """The Pool of one customer's ``histories`` as of ``day``; None when none was issued by then."""
    mine, issued = Pool(), False
    for history in histories:
        observations = _observations(history, day)
        if observations:
            issued = True
            mine.add(observations)
    return mine if issued else None


def _pools(source, days, segments):
    """One pass over ``source``: {day: (company Pool, {segment: Pool})} as of each of ``days``, and the last day
    anything was paid."""
    result = {day: (Pool(), {}) for day in days}
    last_paid = None
    for chunk in _chunks(source):
        for customer, rows in _by_customer(chunk).items():
            for history in rows:
                for when, _amount in history.payments:
                    if last_paid is None or when > last_paid:
                        last_paid = when
            segment = segments.get(customer)
            for day in days:
                mine = _own_pool(rows, day)
                if mine is None:
                    continue
                company, pooled = result[day]
                company.merge(mine)
                if segment is not None:
                    pooled.setdefault(segment, Pool()).merge(mine)
    return result, last_paid


def _model(day, company, pooled):
    return Model(day=day, company=company.curve(), segments={key: pool.curve() for key, pool in pooled.items()})


def fit(source, day, segments=None, own=True):
    """The Model of the histories of ``source`` (a list, or a callable giving chunks: ``_chunks``) as of ``day``;
    ``segments``: {customer: segment key}. Each customer's observations are summed into its own curve and its
    pools', then dropped: what is kept is a few steps per customer. ``own=False``: the pools only (the caller
    gives the model each batch of customers' own curves as it goes, ``own_curves``: memory flat however many
    customers)."""
    segments = segments or {}
    company, pooled, curves = Pool(), {}, {}
    for chunk in _chunks(source):
        for customer, rows in _by_customer(chunk).items():
            mine = _own_pool(rows, day)
            if mine is None:
                continue
            if own:
                curves[customer] = mine.curve()
            company.merge(mine)
            if segments.get(customer) is not None:
                pooled.setdefault(segments[customer], Pool()).merge(mine)
    model = _model(day, company, pooled)
    model.own = curves
    return model


def own_curves(histories, day):
    """{customer: its own curve} of ``histories`` (whole customers' histories) as of ``day``."""
    curves = {}
    for customer, rows in _by_customer(histories).items():
        mine = _own_pool(rows, day)
        if mine is not None:
            curves[customer] = mine.curve()
    return curves


@dataclass(frozen=True, slots=True)
class Prediction:
    key: object
    customer: int
    amount: float
    expected: date | None
    """The date if it is paid (the median of what is paid past its age); None: nothing was paid so late."""
    p30: float
    p60: float
    p90: float
    weekly: tuple
    """Expected amount paid in each week of the horizon (week 0: the rest of today's week)."""
    loss: float = 0.0
    """The chance it is still unpaid 90 days after it falls due (after today, when it is already late): what the
    expected loss weighs (an invoice due in four months is not a loss for not being paid within 90 days)."""


def week_start(day):
    return day - timedelta(days=day.weekday())


@lru_cache(maxsize=16)
def _week_ends(today, weeks):
    """The ordinal of the last day of each week of the horizon."""
    first = week_start(today).toordinal()
    return tuple(first + 7 * (week + 1) - 1 for week in range(weeks))


def predict(curve, amount, due_date, today, weeks=WEEKS, key=None, customer=None):
    """The Prediction of an amount open today, due on ``due_date``, for a customer of ``curve``."""
    values = curve.dense()
    due = due_date.toordinal()
    age = today.toordinal() - due
    base = values[grid(age)]
    if base <= 1e-9:  # older than anything this history paid: not expected
        return Prediction(key, customer, amount, None, 0.0, 0.0, 0.0, (0.0,) * weeks, 1.0)

    def paid_by(delay):
        return max(0.0, 1.0 - values[grid(delay)] / base)

    # The day by which half of what this history pays at that age is paid: the date if it is paid (its
    # chance of being paid at all is p30/p60/p90); None when nothing of the history was paid past that age.
    last = values[LAST]
    expected = None
    if base - last > 1e-9:
        mixed = curve if isinstance(curve, Mixed) else Mixed(values)
        day = mixed.first_at_most(age, base - 0.5 * (base - last) + 1e-12)
        if day is not None:
            expected = max(due_date + timedelta(days=day), today + timedelta(days=1))
    # Paid by the end of each week (S read on the grid, inline: a book has 200,000 items x 13 weeks).
    previous, weekly = 0.0, []
    shift = due + OFFSET
    for end in _week_ends(today, weeks):
        index = end - shift
        done = 1.0 - values[0 if index < 0 else LAST if index > LAST else index] / base
        done = max(done, previous)
        weekly.append(amount * (done - previous))
        previous = done
    return Prediction(key, customer, amount, expected, paid_by(age + 30), paid_by(age + 60), paid_by(age + 90),
                      tuple(weekly), 1.0 - paid_by(max(age, 0) + 90))


class Band:
    """The weekly band, predictions added as they come: likely = the sum of the items' expected amounts; the band
    per customer moving together, customers independent. ``settle()`` once a batch's customers are all added
    (none of them comes again) keeps only their variance: memory stays flat however many customers."""

    __slots__ = ("likely", "spread", "variance", "weeks")

    def __init__(self, weeks=WEEKS):
        self.weeks = weeks
        self.likely = [0.0] * weeks
        self.variance = [0.0] * weeks
        self.spread = {}

    def add(self, prediction):
        amount = prediction.amount
        rows = self.spread.get(prediction.customer)
        if rows is None:
            rows = self.spread[prediction.customer] = [0.0] * self.weeks
        likely = self.likely
        for week, value in enumerate(prediction.weekly):
            if value:
                likely[week] += value
                if amount > 0:
                    p = value / amount
                    if 0.0 < p < 1.0:
                        rows[week] += amount * math.sqrt(p * (1 - p))

    def settle(self):
        for rows in self.spread.values():
            for week, value in enumerate(rows):
                self.variance[week] += value ** 2
        self.spread = {}

    def result(self):
        """[(low, likely, high)] per week."""
        self.settle()
        return [(max(likely - Z90 * math.sqrt(variance), 0.0), likely, likely + Z90 * math.sqrt(variance))
                for likely, variance in zip(self.likely, self.variance, strict=True)]


def weekly_band(predictions, weeks=WEEKS):
    """[(low, likely, high)] per week of ``predictions`` (Band)."""
    band = Band(weeks)
    for prediction in predictions:
        band.add(prediction)
    return band.result()


# ---------------------------------------------------------------------------------------------------------
# Accuracy on the ledger as it stood
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Accuracy:
    """Errors of the model and of the baselines "due" (the due date) and "average" (the customer's
    average delay), over every month-end measured."""

    month_ends: list = field(default_factory=list)
    items: int = 0
    mae: dict = field(default_factory=dict)
    """{"model"|"due"|"average": mean absolute error in days, items paid since}"""
    wape: dict = field(default_factory=dict)
    """{...: weekly cash-in error over the horizon, sum |predicted - actual| / sum actual}"""
    brier: dict = field(default_factory=dict)
    """{...: Brier score of "paid within 30 days"}"""
    weekly: list = field(default_factory=list)
    """[(month-end, week monday, predicted, actual, due-date baseline)]"""


def _baseline_day(due_date, delay, day):
    return max(due_date + timedelta(days=delay), day + timedelta(days=1))


def _week_of(day, start, weeks):
    index = (week_start(day) - week_start(start)).days // 7
    return index if 0 <= index < weeks else None


def _settled_on(history):
    """The day nothing of ``history`` was left open any more (None: still open)."""
    left = history.amount
    for when, amount in sorted(history.payments + history.closed):
        left -= amount
        if left <= 0.005:
            return when
    return None


def backtest(source, month_ends, segments=None, weeks=WEEKS, until=None):
    """Accuracy of the forecast made as of each of ``month_ends`` from the histories of ``source`` (a list, or a
    callable giving chunks: ``_chunks``) as they stood, against what was paid after it (up to ``until``, default
    the last payment known). Two passes over ``source``: the pools as of each month-end, then chunk by chunk each
    customer's own curve and its items scored (memory: a chunk and the pools, whatever the book's size)."""
    segments = segments or {}
    pools, last_paid = _pools(source, month_ends, segments)
    until = until or last_paid or max(month_ends)
    models = {day: _model(day, *pools[day]) for day in month_ends}
    sums = {name: [0.0, 0] for name in ("model", "due", "average")}
    briers = {name: [0.0, 0] for name in sums}
    accuracy = Accuracy(month_ends=list(month_ends))
    series = {day: {name: [0.0] * weeks for name in ("model", "due", "average", "actual")} for day in month_ends}
    for chunk in _chunks(source):
        grouped = _by_customer(chunk)
        for day in month_ends:
            model, weekly = models[day], series[day]
            model.own = {}
            horizon_end = week_start(day) + timedelta(weeks=weeks) - timedelta(days=1)
            for customer, rows in grouped.items():
                mine = _own_pool(rows, day)
                if mine is None:
                    continue
                own = model.own[customer] = mine.curve()
                curve = None
                average = round(own.mean_delay) if own.weight else 0
                for history in rows:
                    remaining = history.open_at(day)
                    if remaining <= 0.005:  # not issued yet, or settled by then
                        continue
                    if curve is None:
                        curve = model.curve(customer, segments.get(customer))
                    prediction = predict(curve, remaining, history.due_date, day, weeks, customer=customer)
                    guesses = {"model": prediction.expected, "due": _baseline_day(history.due_date, 0, day),
                               "average": _baseline_day(history.due_date, average, day)}
                    for week, value in enumerate(prediction.weekly):
                        weekly["model"][week] += value
                    for name in ("due", "average"):
                        week = _week_of(guesses[name], day, weeks)
                        if week is not None:
                            weekly[name][week] += remaining
                    paid = history.paid_on(day, until)
                    for when, amount in paid:
                        week = _week_of(when, day, weeks)
                        if week is not None and when <= horizon_end:
                            weekly["actual"][week] += amount
                    received = sum(amount for _w, amount in paid)
                    full = max((when for when, _a in paid), default=None) if received >= remaining - 0.005 else None
                    accuracy.items += 1
                    if day + timedelta(days=30) > until:  # not known yet whether it was paid within 30 days
                        continue
                    within = 1.0 if full and full <= day + timedelta(days=30) else 0.0
                    probabilities = {"model": prediction.p30,
                                     "due": 1.0 if guesses["due"] <= day + timedelta(days=30) else 0.0,
                                     "average": 1.0 if guesses["average"] <= day + timedelta(days=30) else 0.0}
                    for name, probability in probabilities.items():
                        briers[name][0] += (probability - within) ** 2
                        briers[name][1] += 1
                    if full:
                        for name, guess in guesses.items():
                            sums[name][0] += abs(((guess or day + timedelta(days=LATEST)) - full).days)
                            sums[name][1] += 1
            model.own = {}
    errors = {name: [0.0, 0.0] for name in sums}
    for day in month_ends:
        weekly = series[day]
        # Only the weeks over by ``until``: what was paid in a week not over yet is not known.
        monday = week_start(day)
        known = [week for week in range(weeks) if monday + timedelta(weeks=week + 1) - timedelta(days=1) <= until]
        for name in sums:
            errors[name][0] += sum(abs(weekly[name][week] - weekly["actual"][week]) for week in known)
            errors[name][1] += sum(weekly["actual"][week] for week in known)
        accuracy.weekly += [(day, monday + timedelta(weeks=week), weekly["model"][week], weekly["actual"][week],
                             weekly["due"][week]) for week in known]
    accuracy.mae = {name: total / count if count else None for name, (total, count) in sums.items()}
    accuracy.wape = {name: total / base if base else None for name, (total, base) in errors.items()}
    accuracy.brier = {name: total / count if count else None for name, (total, count) in briers.items()}
    return accuracy


def month_ends(today, count=12):
    """The last ``count`` month-ends before ``today``, oldest first."""
    ends, day = [], today.replace(day=1) - timedelta(days=1)
    for _i in range(count):
        ends.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return sorted(ends)
