"""Allocation of unapplied credits (engine/fees.py): oldest debt first, from the credit's date."""
from datetime import date
from decimal import Decimal

from collections_followup.engine.fees import (
    BalanceChange,
    RatePeriod,
    allocate_credits,
    reduce_balances,
    statutory_interest,
)

D = Decimal


def test_credits_pay_the_oldest_items_first():
    items = [("B", date(2026, 2, 1), D(500)), ("A", date(2026, 1, 1), D(300)), ("C", date(2026, 3, 1), D(100))]
    credits = [(date(2026, 3, 10), D(200)), (date(2026, 3, 5), D(400))]
    assert allocate_credits(items, credits) == {
        "A": [(date(2026, 3, 5), D(300))],
        "B": [(date(2026, 3, 5), D(100)), (date(2026, 3, 10), D(200))],
    }


def test_more_credit_than_debt_covers_everything_and_leaves_the_rest():
    allocation = allocate_credits([("A", date(2026, 1, 1), D(100))], [(date(2026, 1, 5), D(250))])
    assert allocation == {"A": [(date(2026, 1, 5), D(100))]}
    assert allocate_credits([("A", date(2026, 1, 1), D(100))], []) == {}


def test_interest_stops_on_what_a_credit_covers_from_its_date():
    rates = [RatePeriod(date(2025, 1, 1), D(10))]
    balances = [BalanceChange(date.min, D(1000))]
    full = statutory_interest(date(2026, 1, 1), date(2026, 12, 31), balances, rates, D(0))
    reduced = reduce_balances(balances, [(date(2026, 7, 2), D(1000))])
    half_year = statutory_interest(date(2026, 1, 1), date(2026, 12, 31), reduced, rates, D(0))
    assert full == D("99.73")  # 364 days of 10 % on 1,000
    assert half_year == D("49.59")  # 181 days, then covered
    assert reduce_balances(balances, []) == balances
