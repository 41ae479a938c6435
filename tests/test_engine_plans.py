"""Payment plan schedules, allocation and promises (engine/plans.py)."""
from datetime import date
from decimal import Decimal

import pytest

from collections_followup.engine.plans import (
    Instalment,
    PlanError,
    allocate,
    kept_rate,
    plan_schedule,
    plan_status,
    promise_status,
    reminders_due,
    schedule_dates,
    validate_schedule,
)

D = Decimal


def test_monthly_from_month_end_keeps_month_ends():
    dates = schedule_dates(date(2027, 1, 31), 4, "monthly")
    assert dates == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]


def test_leap_day_and_leap_february():
    assert schedule_dates(date(2028, 1, 31), 2, "monthly") == [date(2028, 1, 31), date(2028, 2, 29)]
    # From 29 February: the 29th in the following months, 28 February a year on.
    dates = schedule_dates(date(2028, 2, 29), 13, "monthly")
    assert dates[1] == date(2028, 3, 29)
    assert dates[12] == date(2029, 2, 28)


def test_weekly_and_biweekly():
    assert schedule_dates(date(2026, 12, 28), 3, "weekly") == [
        date(2026, 12, 28), date(2027, 1, 4), date(2027, 1, 11)]
    assert schedule_dates(date(2026, 12, 28), 3, "biweekly") == [
        date(2026, 12, 28), date(2027, 1, 11), date(2027, 1, 25)]


def test_remainder_on_last_instalment_and_exact_sum():
    plan = plan_schedule(D("100.00"), date(2027, 1, 15), 3, "monthly")
    assert [i.amount for i in plan] == [D("33.33"), D("33.33"), D("33.34")]
    assert sum(i.amount for i in plan) == D("100.00")


@pytest.mark.parametrize("total,count", [("1000.01", 7), ("0.05", 3), ("999999.99", 12), ("10", 6)])
def test_amounts_always_add_up(total, count):
    plan = plan_schedule(D(total), date(2027, 1, 1), count, "weekly")
    assert sum(i.amount for i in plan) == D(total)
    assert all(i.amount >= 0 for i in plan)


def test_currency_without_decimals():
    plan = plan_schedule(D("1000"), date(2027, 1, 1), 3, "monthly", digits=0)
    assert [i.amount for i in plan] == [D("333"), D("333"), D("334")]


def test_down_payment_is_first_instalment():
    plan = plan_schedule(D("1000"), date(2027, 2, 1), 3, "monthly",
                         down_payment=D("250"), down_payment_date=date(2027, 1, 10))
    assert [(i.sequence, i.due_date, i.amount) for i in plan] == [
        (1, date(2027, 1, 10), D("250")),
        (2, date(2027, 2, 1), D("250.00")),
        (3, date(2027, 3, 1), D("250.00")),
        (4, date(2027, 4, 1), D("250.00")),
    ]


def test_interest_on_declining_balance_by_hand():
    # 1200 at 10 %/year from 1 Jan 2027, two instalments of 600 on 31 Jan and 28 Feb.
    # 1st: 1200 * 10% * 30/365 = 9.863 -> 9.86 ; 2nd: 600 * 10% * 28/365 = 4.6027 -> 4.60
    plan = plan_schedule(D("1200"), date(2027, 1, 31), 2, "monthly", annual_rate=D("10"),
                         start_date=date(2027, 1, 1))
    assert plan[1].due_date == date(2027, 2, 28)
    assert [(i.amount, i.interest) for i in plan] == [(D("609.86"), D("9.86")), (D("604.60"), D("4.60"))]


@pytest.mark.parametrize("kwargs,code", [
    ({"count": 0}, "count"),
    ({"total": D("0")}, "total"),
    ({"down_payment": D("100")}, "down_payment"),
    ({"down_payment": D("10")}, "down_payment_date"),
    ({"annual_rate": D("-1")}, "rate"),
    ({"frequency": "daily"}, "frequency"),
])
def test_bad_input_is_refused_with_a_code(kwargs, code):
    args = {"total": D("100"), "first_date": date(2027, 1, 1), "count": 2, "frequency": "monthly"}
    args.update(kwargs)
    with pytest.raises(PlanError) as err:
        plan_schedule(**args)
    assert err.value.code == code


def test_validate_hand_typed_schedule():
    ok = [Instalment(1, date(2027, 1, 1), D("40")), Instalment(2, date(2027, 2, 1), D("60"))]
    validate_schedule(ok, D("100"))
    with pytest.raises(PlanError) as err:
        validate_schedule(ok, D("101"))
    assert err.value.code == "sum"
    with pytest.raises(PlanError) as err:
        validate_schedule(list(reversed(ok)), D("100"))
    assert err.value.code == "order"


def test_partial_payments_fill_oldest_first():
    plan = plan_schedule(D("300"), date(2027, 1, 1), 3, "monthly")
    states = allocate(plan, D("150"), today=date(2027, 1, 20))
    assert [(s.paid, s.remaining, s.state) for s in states] == [
        (D("100"), D("0"), "paid"),
        (D("50"), D("50"), "partial"),
        (D("0"), D("100"), "open"),
    ]
    states = allocate(plan, D("150"), today=date(2027, 2, 5))
    assert states[1].state == "late"


def test_plan_broken_only_after_grace():
    plan = plan_schedule(D("300"), date(2027, 1, 1), 3, "monthly")
    states = allocate(plan, D("100"), today=date(2027, 2, 4))
    assert plan_status(states, date(2027, 2, 4), grace_days=3) == "current"
    assert plan_status(states, date(2027, 2, 5), grace_days=3) == "broken"
    paid = allocate(plan, D("300"), today=date(2027, 2, 5))
    assert plan_status(paid, date(2027, 2, 5), grace_days=3) == "completed"


def test_reminders_before_due_dates():
    plan = plan_schedule(D("300"), date(2027, 1, 10), 3, "monthly")
    states = allocate(plan, D("0"), today=date(2027, 1, 7))
    assert reminders_due(states, date(2027, 1, 7), days_before=3) == (1,)
    assert reminders_due(states, date(2027, 1, 6), days_before=3) == ()
    paid = allocate(plan, D("100"), today=date(2027, 1, 7))
    assert reminders_due(paid, date(2027, 1, 7), days_before=3) == ()


def test_promise_kept_broken_open():
    due = date(2027, 1, 10)
    assert promise_status(D("500"), due, D("500"), date(2027, 1, 9)) == "kept"
    assert promise_status(D("500"), due, D("499.99"), date(2027, 1, 12), grace_days=2) == "open"
    assert promise_status(D("500"), due, D("499.99"), date(2027, 1, 13), grace_days=2) == "broken"


def test_kept_rate():
    assert kept_rate(3, 1) == D("75.0")
    assert kept_rate(0, 0) is None
    assert kept_rate(1, 2) == D("33.3")
