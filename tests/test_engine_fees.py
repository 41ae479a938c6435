"""Late fees and statutory interest (engine/fees.py), checked against sums done by hand."""
from datetime import date
from decimal import Decimal

import pytest

from collections_followup.engine.fees import (
    BalanceChange,
    FeeError,
    RatePeriod,
    late_fee,
    statutory_interest,
)

D = Decimal
RATES = [RatePeriod(date(2026, 1, 1), D("4.50")), RatePeriod(date(2026, 7, 1), D("4.00"))]
MARGIN = D("8")


def test_simple_case_by_hand():
    # 10,000 due 31 Jan, to 31 Mar: 1 Feb..31 Mar = 59 days at 12.5 %.
    # 10000 * 0.125 * 59 / 365 = 202.0547... -> 202.05
    interest = statutory_interest(
        date(2026, 1, 31), date(2026, 3, 31), [BalanceChange(date(2026, 1, 31), D("10000"))], RATES, MARGIN,
    )
    assert interest == D("202.05")


def test_rate_change_in_the_middle():
    # 10,000 due 31 May, to 31 Jul: June (30 days) at 12.5 %, July (31 days) at 12.0 %.
    # 10000*0.125*30/365 = 102.7397 ; 10000*0.12*31/365 = 101.9178 ; total 204.6575 -> 204.66
    interest = statutory_interest(
        date(2026, 5, 31), date(2026, 7, 31), [BalanceChange(date(2026, 5, 31), D("10000"))], RATES, MARGIN,
    )
    assert interest == D("204.66")


def test_partial_payment_in_the_middle():
    # 10,000 due 31 Jan; 4,000 paid on 1 Mar (residual 6,000 from that day); to 31 Mar.
    # Feb (28 days): 10000*0.125*28/365 = 95.8904 ; 1..31 Mar (31 days): 6000*0.125*31/365 = 63.6986
    # total 159.5890 -> 159.59
    interest = statutory_interest(
        date(2026, 1, 31), date(2026, 3, 31),
        [BalanceChange(date(2026, 1, 31), D("10000")), BalanceChange(date(2026, 3, 1), D("6000"))],
        RATES, MARGIN,
    )
    assert interest == D("159.59")


def test_rate_change_and_payment_together():
    # 5,000 due 15 Jun; 2,000 paid 16 Jul; to 15 Aug.
    # 16..30 Jun: 15 d * 5000 * 12.5% = 25.6849 ; 1..15 Jul: 15 d * 5000 * 12% = 24.6575
    # 16 Jul..15 Aug: 31 d * 3000 * 12% = 30.5753 ; total 80.9177 -> 80.92
    interest = statutory_interest(
        date(2026, 6, 15), date(2026, 8, 15),
        [BalanceChange(date(2026, 6, 15), D("5000")), BalanceChange(date(2026, 7, 16), D("3000"))],
        RATES, MARGIN,
    )
    assert interest == D("80.92")


def test_nothing_before_the_due_date_passes_or_once_paid():
    balances = [BalanceChange(date(2026, 3, 31), D("1000"))]
    assert statutory_interest(date(2026, 3, 31), date(2026, 3, 31), balances, RATES, MARGIN) == 0
    paid = [BalanceChange(date(2026, 1, 31), D("1000")), BalanceChange(date(2026, 2, 1), D("0"))]
    assert statutory_interest(date(2026, 1, 31), date(2026, 3, 31), paid, RATES, MARGIN) == 0


def test_no_rate_in_force_is_an_error():
    with pytest.raises(FeeError) as err:
        statutory_interest(date(2025, 6, 1), date(2025, 7, 1), [BalanceChange(date(2025, 6, 1), D("1"))],
                           RATES, MARGIN)
    assert err.value.code == "no_rate"


def test_yen_rounding():
    interest = statutory_interest(
        date(2026, 1, 31), date(2026, 3, 31), [BalanceChange(date(2026, 1, 31), D("1000000"))], RATES, MARGIN,
        digits=0,
    )
    assert interest == D("20205")  # 20205.479...


@pytest.mark.parametrize("kind,kwargs,expected", [
    ("fixed", {"fixed": "25"}, "25.00"),
    ("percent", {"percent": "1.5"}, "15.00"),
    ("percent", {"percent": "10", "cap": "50"}, "50.00"),
    ("interest", {"interest": "12.34", "compensation": "40"}, "52.34"),
    ("fixed", {"fixed": "25", "compensation": "40", "cap": "10"}, "50.00"),
    ("none", {"fixed": "25"}, "0"),
])
def test_fee_kinds(kind, kwargs, expected):
    assert late_fee(kind, D("1000"), **kwargs) == D(expected)


def test_no_fee_on_nothing_overdue():
    assert late_fee("fixed", D("0"), fixed="25") == 0
