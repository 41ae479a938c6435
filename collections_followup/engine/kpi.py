"""Collections KPIs: plain numbers in, plain numbers out.

Formulas (documented in README.md, "KPIs"); amounts are receivables in
company currency, ``days`` the length of the period in days:

* DSO (standard) = ending AR / credit sales of the period x days.
* DSO (count-back) = days of the most recent months whose credit sales the
  ending AR covers, plus the share of the next month it covers partly.
* Best possible DSO = current (not yet due) AR / credit sales x days.
* ADD (average days delinquent) = DSO - best possible DSO.
* CEI = (beginning AR + credit sales - ending AR)
        / (beginning AR + credit sales - ending current AR) x 100.
* Share current = current AR / ending AR x 100.
* Rates (promises kept, plans completed) = good / (good + bad) x 100.
* Cash expectation: open invoices at their due date, plan instalments at
  theirs, promises at the promised date, per week (Monday); what is late
  is expected in the current week.

Results are rounded to one decimal; None when the figure has no meaning
(no sales, nothing owed).
"""
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

ONE_PLACE = Decimal("0.1")


def _dec(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _round(value):
    return None if value is None else value.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def dso_standard(ending_ar, credit_sales, days):
    sales = _dec(credit_sales)
    if sales <= 0:
        return None
    return _round(_dec(ending_ar) / sales * days)


def dso_count_back(ending_ar, months):
    """``months``: [(days in the month, credit sales of the month)], most recent first."""
    left = _dec(ending_ar)
    if left <= 0:
        return Decimal("0.0")
    total = Decimal(0)
    for days, month_sales in months:
        sales = _dec(month_sales)
        if sales <= 0:
            total += days
            continue
        if left <= sales:
            return _round(total + left / sales * days)
        left -= sales
        total += days
    return _round(total)  # the AR exceeds all the sales given: at least this


def best_possible_dso(current_ar, credit_sales, days):
    return dso_standard(current_ar, credit_sales, days)


def average_days_delinquent(dso, best_dso):
    if dso is None or best_dso is None:
        return None
    return _round(_dec(dso) - _dec(best_dso))


def cei(beginning_ar, credit_sales, ending_ar, ending_current_ar):
    collectable = _dec(beginning_ar) + _dec(credit_sales) - _dec(ending_current_ar)
    if collectable <= 0:
        return None
    collected = _dec(beginning_ar) + _dec(credit_sales) - _dec(ending_ar)
    return _round(collected / collectable * 100)


def share(part, total):
    total = _dec(total)
    if total <= 0:
        return None
    return _round(_dec(part) / total * 100)


def success_rate(good, bad):
    if not good + bad:
        return None
    return _round(Decimal(good) * 100 / (good + bad))


def average(values):
    values = [_dec(v) for v in values]
    if not values:
        return None
    return _round(sum(values, Decimal(0)) / len(values))


def trend(current, previous):
    """Change from the previous period, in the figure's own unit (None if unknown)."""
    if current is None or previous is None:
        return None
    return _round(_dec(current) - _dec(previous))


def week_start(day):
    """Monday of the day's week."""
    return day - timedelta(days=day.weekday())


def cash_expectation(today, invoices=(), instalments=(), promises=(), weeks=12):
    """Expected receipts per week: {(monday, source): amount}.

    ``invoices``: (due date, amount) of open invoices under no plan or promise;
    ``instalments``: (due date, amount still to pay) of active plans;
    ``promises``: (promised date, amount still to pay) of open promises.
    What is already late is expected this week (source 'overdue'); what
    falls after the horizon of ``weeks`` weeks is left out."""
    first = week_start(today)
    horizon = first + timedelta(weeks=weeks)
    result = {}

    def add(day, source, amount):
        amount = _dec(amount)
        if amount <= 0:
            return
        if day < today:
            day, source = today, "overdue" if source == "invoice" else source
        monday = week_start(day)
        if monday >= horizon:
            return
        key = (monday, source)
        result[key] = result.get(key, Decimal(0)) + amount

    for day, amount in invoices:
        add(day, "invoice", amount)
    for day, amount in instalments:
        add(day, "plan", amount)
    for day, amount in promises:
        add(day, "promise", amount)
    return result


def paid_after_contact(contacts, payments, window_days=14):
    """Payments received within ``window_days`` after any contact (each payment once).

    ``contacts``: dates the customer was contacted; ``payments``: (date, amount)."""
    total = Decimal(0)
    window = timedelta(days=window_days)
    for day, amount in payments:
        if any(contact <= day <= contact + window for contact in contacts):
            total += _dec(amount)
    return total
