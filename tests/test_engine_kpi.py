"""KPI formulas (engine/kpi.py) on a small book computed by hand."""
from datetime import date
from decimal import Decimal

from collections_followup.engine.kpi import (
    average,
    average_days_delinquent,
    best_possible_dso,
    cash_expectation,
    cei,
    dso_count_back,
    dso_standard,
    paid_after_contact,
    share,
    success_rate,
    trend,
)

D = Decimal

# A quarter (90 days): 300,000 invoiced; 120,000 owed at the end, 80,000 of it not yet due;
# 100,000 owed at the start.
SALES, DAYS, ENDING, CURRENT, BEGINNING = D(300000), 90, D(120000), D(80000), D(100000)


def test_dso_standard():
    # 120000 / 300000 * 90 = 36.0
    assert dso_standard(ENDING, SALES, DAYS) == D("36.0")


def test_best_possible_dso_and_add():
    # 80000 / 300000 * 90 = 24.0 ; ADD = 36 - 24 = 12
    best = best_possible_dso(CURRENT, SALES, DAYS)
    assert best == D("24.0")
    assert average_days_delinquent(dso_standard(ENDING, SALES, DAYS), best) == D("12.0")


def test_cei():
    # (100000 + 300000 - 120000) / (100000 + 300000 - 80000) = 280000 / 320000 = 87.5 %
    assert cei(BEGINNING, SALES, ENDING, CURRENT) == D("87.5")


def test_dso_count_back():
    # AR 120,000; last month (30 days) 90,000 of sales, the month before (31 days) 100,000.
    # 30 days fully + 30,000 / 100,000 of 31 days = 30 + 9.3 = 39.3
    assert dso_count_back(ENDING, [(30, D(90000)), (31, D(100000)), (30, D(110000))]) == D("39.3")
    assert dso_count_back(D(45000), [(30, D(90000))]) == D("15.0")
    assert dso_count_back(D(0), [(30, D(90000))]) == D("0.0")
    # A month without sales counts whole.
    assert dso_count_back(D(50000), [(31, D(0)), (30, D(100000))]) == D("46.0")


def test_share_current_and_rates():
    assert share(CURRENT, ENDING) == D("66.7")
    assert success_rate(3, 1) == D("75.0")
    assert success_rate(0, 0) is None


def test_no_sales_no_dso():
    assert dso_standard(ENDING, 0, DAYS) is None
    assert cei(0, 0, 0, 0) is None
    assert share(1, 0) is None


def test_average_and_trend():
    assert average([3, 4, 8]) == D("5.0")
    assert average([]) is None
    assert trend(D("36.0"), D("40.5")) == D("-4.5")
    assert trend(None, D("1")) is None


def test_cash_expectation_by_week():
    today = date(2026, 3, 31)  # a Tuesday; its week starts on Monday 30 March
    result = cash_expectation(
        today,
        invoices=[(date(2026, 3, 1), 100), (date(2026, 4, 2), 200), (date(2026, 4, 8), 300), (date(2027, 1, 1), 9)],
        instalments=[(date(2026, 4, 10), 50), (date(2026, 3, 20), 25)],
        promises=[(date(2026, 4, 3), 70)],
        weeks=4,
    )
    assert result == {
        (date(2026, 3, 30), "overdue"): D(100),
        (date(2026, 3, 30), "invoice"): D(200),
        (date(2026, 4, 6), "invoice"): D(300),
        (date(2026, 4, 6), "plan"): D(50),
        (date(2026, 3, 30), "plan"): D(25),  # a late instalment is expected now
        (date(2026, 3, 30), "promise"): D(70),
    }


def test_paid_after_contact_counts_each_payment_once():
    contacts = [date(2026, 3, 1), date(2026, 3, 10)]
    payments = [
        (date(2026, 2, 28), 100),  # before any contact
        (date(2026, 3, 12), 200),  # within both windows: once
        (date(2026, 3, 24), 300),  # 14 days after the second contact: counted
        (date(2026, 3, 25), 400),  # 15 days: not
    ]
    assert paid_after_contact(contacts, payments) == D(500)
