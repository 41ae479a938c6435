"""Payment behaviour and proposed credit limits (engine/behaviour.py)."""
from datetime import date, timedelta
from decimal import Decimal

from collections_followup.engine.behaviour import (
    Behaviour,
    Invoice,
    behaviour_score,
    payment_behaviour,
    predicted_payment_date,
    propose_limit,
    segment_for,
    usual_delay,
)

TODAY = date(2026, 6, 30)


def inv(amount, days_ago, late=0, open_=False, terms=30):
    issued = TODAY - timedelta(days=days_ago)
    due = issued + timedelta(days=terms)
    return Invoice(Decimal(str(amount)), issued, due, None if open_ else due + timedelta(days=late))


def test_no_invoice_no_proposal():
    assert payment_behaviour([], TODAY) is None
    assert propose_limit(None) is None
    # Older than twelve months: ignored.
    assert payment_behaviour([inv(1000, 400)], TODAY) is None


def test_punctual_customer_gets_three_months_of_sales():
    invoices = [inv(1000, 30 * m + 40) for m in range(12) if 30 * m + 40 < 365]
    behaviour = payment_behaviour(invoices, TODAY)
    assert behaviour.on_time_share == Decimal("1.00")
    assert behaviour.weighted_days_late == 0
    # 11 invoices of 1000 in the year: 916.67 a month, x3 = 2750 -> 2800.
    assert propose_limit(behaviour) == Decimal(2800)


def test_amount_weighted_days_late_and_worst_delay():
    invoices = [inv(1000, 200, late=10), inv(3000, 150, late=0), inv(1000, 100, late=40)]
    behaviour = payment_behaviour(invoices, TODAY)
    assert behaviour.weighted_days_late == Decimal("10.0")  # (10*1000 + 40*1000) / 5000
    assert behaviour.on_time_share == Decimal("0.60")
    assert behaviour.worst_days_late == 40
    # On time 60 %: not the 2-month row; weighted 10 <= 30: one month of 5000/12 -> 500.
    assert propose_limit(behaviour) == Decimal(500)


def test_open_invoice_counts_late_until_today_and_90_days_means_cash():
    behaviour = payment_behaviour([inv(1000, 200, open_=True)], TODAY)
    assert behaviour.worst_days_late == 170
    assert propose_limit(behaviour) == 0


def test_worsening_trend_moves_one_row_down():
    older = [inv(1000, d, late=0) for d in (330, 300, 270, 240, 210, 180, 150, 120)]
    recent = [inv(1000, d, late=20) for d in (80, 60)]
    behaviour = payment_behaviour(older + recent, TODAY)
    assert behaviour.trend == Decimal("20.0")
    # 80 % on time, weighted 4 days: two months, one row down for the trend: one month.
    assert propose_limit(behaviour) == Decimal(900)  # 10000 / 12 = 833.3 -> 900


def test_score_and_segment_by_hand():
    good = Behaviour(12, Decimal(12000), Decimal("2.0"), Decimal("0.95"), 5, Decimal("-1.0"))
    # 100 - 40*0.05 - 30*2/60 = 100 - 2 - 1 = 97
    assert behaviour_score(good) == 97
    assert segment_for(97) == "reliable"
    bad = Behaviour(12, Decimal(12000), Decimal("45.0"), Decimal("0.40"), 120, Decimal("12.0"))
    # 100 - 40*0.6 - 30*45/60 - 10*12/30 - 5*2 - 2.5*1 = 100 - 24 - 22.5 - 4 - 10 - 2.5 = 37
    assert behaviour_score(bad, broken_promises=2, disputes=1) == 37
    assert segment_for(37) == "chronically_late"
    worst = Behaviour(3, Decimal(900), Decimal("200"), Decimal("0"), 200, Decimal("60"))
    # 100 - 40 - 30 - 10 - 10 - 10 = 0, never below
    assert behaviour_score(worst, broken_promises=5, disputes=9) == 0
    assert segment_for(0) == "high_risk"
    assert behaviour_score(None) is None and segment_for(None) is None
    assert segment_for(70, ((90, "gold"), (50, "silver"))) == "silver"
    today = date(2026, 3, 31)
    assert predicted_payment_date(date(2026, 3, 20), good, today) == today  # 22 March is past: today
    assert predicted_payment_date(date(2026, 4, 20), bad, today) == date(2026, 6, 4)  # + 45 days
    assert predicted_payment_date(date(2026, 4, 20), None, today) == date(2026, 4, 20)
    assert predicted_payment_date(date(2026, 4, 20), 45, today) == date(2026, 6, 4)  # delay stored on the customer
    assert usual_delay(bad) == 45 and usual_delay(None) == 0
