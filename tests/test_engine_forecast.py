"""When each open item will be paid, the 13-week forecast and its backtest (engine/forecast.py)."""
from datetime import date, timedelta

import pytest

from collections_followup.engine import forecast as F
from collections_followup.engine.forecast import History, backtest, fit, predict, weekly_band
from collections_followup.engine.forecast_book import BEHAVIOURS, book, book_chunks

TODAY = date(2026, 12, 7)
LATE, ON_TIME, NEVER, NEWCOMER = 1, 2, 3, 4


def _history(customer, months=12, delay=10, written_off=False):
    """An invoice of 1,000 due each month for ``months`` months, paid ``delay`` days late (or written off)."""
    rows = []
    for month in range(1, months + 1):
        due = TODAY - timedelta(days=30 * month + 200)
        when = due + timedelta(days=180 if written_off else delay)
        rows.append(History(customer, 1000.0, due, due - timedelta(days=30),
                            () if written_off else ((when, 1000.0),), ((when, 1000.0),) if written_off else ()))
    return rows


@pytest.fixture
def histories():
    return _history(LATE, delay=10) + _history(ON_TIME, delay=0) + _history(NEVER, written_off=True)


def test_a_customers_own_history_gives_the_worked_out_answers(histories):
    model = fit(histories, TODAY)
    late, on_time, never = model.own[LATE], model.own[ON_TIME], model.own[NEVER]
    # Always 10 days late: an invoice 3 days late is paid in 7 days, surely within 30.
    prediction = predict(late, 500.0, TODAY - timedelta(days=3), TODAY)
    assert prediction.expected == TODAY + timedelta(days=7)
    assert (prediction.p30, prediction.p60, prediction.p90) == (1.0, 1.0, 1.0)
    # Not due yet (in 5 days): 10 days after its due date.
    assert predict(late, 500.0, TODAY + timedelta(days=5), TODAY).expected == TODAY + timedelta(days=15)
    # Always on time: on its due date; an invoice already 3 days late is older than anything it ever paid.
    assert predict(on_time, 500.0, TODAY + timedelta(days=5), TODAY).expected == TODAY + timedelta(days=5)
    stale = predict(on_time, 500.0, TODAY - timedelta(days=3), TODAY)
    assert (stale.expected, stale.p90) == (None, 0.0)
    # Due in four months: not paid within 90 days of today, and no loss for it (paid 10 days after it falls due).
    far = predict(late, 500.0, TODAY + timedelta(days=120), TODAY)
    assert (far.p90, far.loss, prediction.loss) == (0.0, 0.0, 0.0)
    # Never pays: nothing expected, no chance.
    nothing = predict(never, 500.0, TODAY + timedelta(days=5), TODAY)
    assert (nothing.expected, nothing.p30, nothing.p90, sum(nothing.weekly), nothing.loss) == (None, 0.0, 0.0, 0.0,
                                                                                                1.0)
    assert (late.mean_delay, on_time.mean_delay) == (pytest.approx(10), 0)


def test_little_history_is_shrunk_toward_the_company_and_an_old_item_is_not_expected_in_the_past(histories):
    """A customer toward its company, the company toward the due date; exact against the formula."""
    model = fit(histories, TODAY)
    # The company: a third paid on time, a third 10 days late, a third never (equal amounts and dates).
    company = model.company
    assert company.s(-1) == pytest.approx(1.0)
    assert company.s(0) == pytest.approx(2 / 3)
    assert company.s(10) == pytest.approx(1 / 3)
    assert company.s(400) == pytest.approx(1 / 3)
    # A newcomer has the company's curve, itself shrunk toward "paid on the due date" by the company's weight:
    # paid on its due date with a third (and the prior's share), 10 days late with another third.
    company_share = company.weight / (company.weight + F.PRIOR)
    newcomer = model.curve(NEWCOMER)
    assert newcomer.s(-1) == pytest.approx(1.0)
    assert newcomer.s(0) == pytest.approx(company_share * 2 / 3)
    assert newcomer.s(10) == pytest.approx(company_share / 3)
    # The on-time customer, weighed by its history against the prior.
    weight = sum(0.5 ** ((TODAY - h.due_date).days / F.HALF_LIFE_DAYS) for h in histories if h.customer == ON_TIME)
    share = weight / (weight + F.PRIOR)
    curve = model.curve(ON_TIME)
    assert curve.s(0) == pytest.approx(share * 0 + (1 - share) * company_share * 2 / 3)
    # Its invoice 3 days late: past its own delays; the company's 10-day payers say day 10, never earlier than
    # tomorrow, with the chance the pool gives.
    stale = predict(curve, 500.0, TODAY - timedelta(days=3), TODAY)
    assert stale.expected == TODAY + timedelta(days=7)
    assert stale.p30 == pytest.approx(1 - ((1 - share) / 3) / ((1 - share) * 2 / 3))
    long_late = predict(model.curve(LATE), 500.0, TODAY - timedelta(days=40), TODAY)
    assert long_late.expected is None, "nothing in the books was paid 40 days late"
    # The sentence: pays 10 days late on average, most of it within 30 days.
    average, within_30, weight = model.sentence(LATE)
    assert (average, weight) == (10, pytest.approx(model.own[LATE].weight))
    assert within_30 == pytest.approx(1 - (1 - weight / (weight + F.PRIOR)) * company_share / 3)


def test_an_on_time_payers_first_late_invoice_pays_as_its_pool_pays_past_that_age(histories):
    """Its own history stops at the day it always paid on: the invoice still open 5 days late is unknown past
    that day, not "never paid" (what was closed without money there stays never paid)."""
    late_one = History(ON_TIME, 1250.0, TODAY - timedelta(days=5), TODAY - timedelta(days=35))
    model = fit([*histories, late_one], TODAY)
    own, pool = model.own[ON_TIME], model.pool(None)
    assert (own.horizon, own.never) == (5, 0.0)
    prediction = predict(model.curve(ON_TIME), 1250.0, late_one.due_date, TODAY)
    # Exactly the pool's chance past that age: its 10-day payers pay it in 5 days; its never-payers never do.
    for chance, days in ((prediction.p30, 35), (prediction.p90, 95)):
        assert chance == pytest.approx(1 - pool.s(days) / pool.s(5))
    # (of the company's amounts unpaid 5 days late, half were paid on day 10, half never)
    assert (prediction.p30, prediction.p90) == (pytest.approx(0.5), pytest.approx(0.5))
    assert prediction.expected == TODAY + timedelta(days=5)
    # A customer that had a third of its amounts credited: that third of what is unpaid past its horizon never is.
    credited = [History(7, 1000.0, h.due_date, h.issued, h.payments if i % 3 else (),
                        () if i % 3 else ((h.due_date + timedelta(days=1), 1000.0),))
                for i, h in enumerate(_history(7, delay=0))]
    model = fit([*histories, *credited, History(7, 1250.0, late_one.due_date, late_one.issued)], TODAY)
    own, pool, curve = model.own[7], model.pool(None), model.curve(7)
    assert 0.0 < own.never < 1.0
    share = own.weight / (own.weight + F.PRIOR)
    start = own.s(5)
    expected = (share * start * (own.never + (1 - own.never) * pool.s(95) / pool.s(5)) + (1 - share) * pool.s(95)) \
        / (share * start + (1 - share) * pool.s(5))
    assert predict(curve, 1250.0, late_one.due_date, TODAY).p90 == pytest.approx(1 - expected)
    assert predict(curve, 1250.0, late_one.due_date, TODAY).p90 < prediction.p90


def test_the_backtest_reads_the_ledger_as_it_stood():
    due = TODAY - timedelta(days=40)
    history = History(9, 1000.0, due, due - timedelta(days=30), ((due + timedelta(days=20), 1000.0),))
    before = due + timedelta(days=10)
    assert history.open_at(before) == 1000.0 and history.open_at(due + timedelta(days=20)) == 0.0
    # As of ten days after the due date the payment (day 20) is not known: the item is open, nothing paid.
    model = fit([history], before)
    assert model.own[9].days == [] and model.own[9].s(30) == 1.0
    assert fit([history], TODAY).own[9].s(20) == 0.0
    # Not issued yet: not in the books of that day.
    assert fit([history], due - timedelta(days=31)).own == {}


def test_weekly_totals_are_the_sum_of_the_items_contributions(histories):
    model = fit(histories, TODAY)
    predictions = [predict(model.curve(customer), amount, TODAY + timedelta(days=offset), TODAY, customer=customer)
                   for customer, amount, offset in ((LATE, 800.0, -3), (ON_TIME, 1200.0, 9), (LATE, 300.0, 20),
                                                    (NEWCOMER, 500.0, -1), (NEVER, 700.0, 4))]
    band = weekly_band(predictions)
    assert len(band) == F.WEEKS
    for week, (low, likely, high) in enumerate(band):
        assert likely == pytest.approx(sum(p.weekly[week] for p in predictions))
        assert 0.0 <= low <= likely <= high
    # What is expected in 13 weeks is no more than what is open.
    assert sum(likely for _low, likely, _high in band) <= 3500.0


def test_the_model_beats_both_baselines_on_a_book_with_every_behaviour():
    histories, behaviours = book(120, TODAY, seed=7)
    assert set(behaviours.values()) == set(BEHAVIOURS)
    accuracy = backtest(histories, F.month_ends(TODAY, 6), until=TODAY)
    assert accuracy.items > 1000
    assert accuracy.mae["model"] <= 0.6 * accuracy.mae["due"]
    for name in ("due", "average"):
        assert accuracy.brier["model"] < accuracy.brier[name]
        assert accuracy.wape["model"] < accuracy.wape[name]
    assert max(week for _day, week, *_rest in accuracy.weekly) <= TODAY, "only weeks already over are measured"


def test_the_backtest_and_the_fit_read_a_book_in_chunks_as_a_whole():
    """Read a few customers at a time (memory does not grow with the book), the same figures."""
    histories, _behaviours = book(60, TODAY, seed=3)
    ends = F.month_ends(TODAY, 4)
    whole = backtest(histories, ends, until=TODAY)
    chunked = backtest(lambda: (chunk for chunk, _kinds in book_chunks(60, TODAY, seed=3, size=7)), ends,
                       until=TODAY)
    assert chunked.items == whole.items > 0
    for metric in ("mae", "wape", "brier"):
        for name in ("model", "due", "average"):
            assert getattr(chunked, metric)[name] == pytest.approx(getattr(whole, metric)[name])
    model = fit(lambda: (chunk for chunk, _kinds in book_chunks(60, TODAY, seed=3, size=7)), TODAY)
    assert model.company.survival == pytest.approx(fit(histories, TODAY).company.survival)
    # The pools alone, each batch's own curves given as it goes (the forecast's rebuild): the same curves.
    pools_only = fit(lambda: (chunk for chunk, _kinds in book_chunks(60, TODAY, seed=3, size=7)), TODAY, own=False)
    assert pools_only.own == {} and len(model.own) == 60
    for chunk, _kinds in book_chunks(60, TODAY, seed=3, size=7):
        pools_only.own, pools_only.last = F.own_curves(chunk, TODAY), (None, None)
        for customer in pools_only.own:
            assert pools_only.curve(customer).survival == pytest.approx(model.curve(customer).survival)


def test_a_company_without_paid_history_is_forecast_by_its_due_dates():
    """Nothing paid yet anywhere: every open amount is expected in the week it falls due (the contractual series),
    what is late this week."""
    open_only = [History(1, 1000.0, TODAY + timedelta(days=9), TODAY - timedelta(days=20)),
                 History(2, 500.0, TODAY - timedelta(days=5), TODAY - timedelta(days=35))]
    model = fit(open_only, TODAY)
    soon = predict(model.curve(1), 1000.0, TODAY + timedelta(days=9), TODAY)
    late = predict(model.curve(2), 500.0, TODAY - timedelta(days=5), TODAY)
    # (all but the doubt the late one casts: the company's own curve, never paid, weighs its 5 days late)
    assert soon.expected == TODAY + timedelta(days=9) and soon.p30 > 0.98
    assert soon.weekly[(F.week_start(TODAY + timedelta(days=9)) - F.week_start(TODAY)).days // 7] == \
        pytest.approx(sum(soon.weekly)) == pytest.approx(1000.0 * soon.p30)
    # Already late, and nothing in the books was ever paid late: not expected.
    assert (late.expected, late.p90) == (None, 0.0)


def test_month_ends():
    assert F.month_ends(date(2026, 3, 15), 3) == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)]
