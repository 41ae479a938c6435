"""engine/backtest.py: a policy replayed on a hand-made year with known answers, and its shortcuts
(deciding only on the days that can change something) against deciding on every day."""
import random
from datetime import date, timedelta
from decimal import Decimal

from collections_followup.engine import Level
from collections_followup.engine.backtest import LevelRules, PastItem, replay

START, END = date(2026, 1, 1), date(2026, 3, 31)
FIRST, SECOND = Level(1, 7, name="First"), Level(2, 21, name="Second")
RULES = {
    1: LevelRules(channels=("email",)),
    2: LevelRules(channels=("email", "letter"), credit_hold=True, fee_type="fixed", fee_fixed=Decimal(40)),
}
D = Decimal


def history():
    return [
        # 1: paid 5 days after its due date, before the first reminder's day: never reminded.
        PastItem(1, 10, 100, date(2026, 1, 1), date(2026, 1, 31), D(1000), ((date(2026, 2, 5), D(1000)),)),
        # 2: first reminder on 17 Jan, second (fee, hold) on 31 Jan; paid 20 Feb, not because of them.
        PastItem(2, 20, 200, date(2026, 1, 1), date(2026, 1, 10), D(500), ((date(2026, 2, 20), D(500)),)),
        # 3: first reminder on 17 Feb, paid two days later: a needless reminder.
        PastItem(3, 30, 300, date(2026, 2, 1), date(2026, 2, 10), D(300), ((date(2026, 2, 19), D(300)),)),
        # 4: an unapplied credit note covers the invoice: no reminder.
        PastItem(4, 40, 400, date(2026, 1, 5), date(2026, 1, 5), D(-200)),
        PastItem(4, 41, 401, date(2026, 1, 1), date(2026, 1, 10), D(150)),
        # 5: already late when the period starts: first on 1 Jan, second 14 days later (the gap).
        PastItem(5, 50, 500, date(2025, 12, 1), date(2025, 12, 15), D(800)),
    ]


def test_a_known_quarter():
    result = replay([FIRST, SECOND], RULES, history(), START, END, paid_within=7)
    assert dict(result.reminders) == {1: 3, 2: 2}
    assert dict(result.channels) == {(1, "email"): 3, (2, "email"): 2, (2, "letter"): 2}
    assert result.fees == D(80)
    assert (result.holds, result.needless, result.customers) == (2, 1, 3)


def test_a_later_first_reminder_saves_the_needless_one():
    later = Level(1, 14, name="First")
    result = replay([later, SECOND], RULES, history(), START, END, paid_within=7)
    assert dict(result.reminders) == {1: 2, 2: 2}
    assert result.needless == 0


def test_jumping_between_days_counts_as_deciding_every_day():
    rng = random.Random(20261202)
    for _case in range(200):
        levels = [Level(index + 1, delay, D(rng.choice([0, 0, 300])), f"L{index}")
                  for index, delay in enumerate(sorted(rng.sample(range(-10, 60), rng.randint(1, 4))))]
        rules = {level.id: LevelRules(channels=rng.choice([("email",), ("email", "sms"), ("letter",)]),
                                      credit_hold=rng.random() < 0.3,
                                      fee_type=rng.choice(["none", "fixed", "percent"]),
                                      fee_fixed=D(25), fee_percent=D("1.5")) for level in levels}
        items = []
        for index in range(rng.randint(0, 12)):
            issued = START + timedelta(days=rng.randint(-60, 85))
            amount = D(rng.randint(-300, 2000))
            payments = []
            if rng.random() < 0.7:
                when = issued + timedelta(days=rng.randint(0, 90))
                part = amount if rng.random() < 0.6 else (amount / 2).quantize(D("0.01"))
                payments.append((when, part))
            items.append(PastItem(rng.randint(1, 4), index, index, issued,
                                  issued + timedelta(days=rng.choice([0, 15, 30])), amount, tuple(payments),
                                  rng.random() < 0.05))
        fast = replay(levels, rules, items, START, END, paid_within=5)
        slow = replay(levels, rules, items, START, END, paid_within=5, every_day=True)
        assert fast._replace(decisions=0) == slow._replace(decisions=0), (levels, items)
        assert fast.decisions <= slow.decisions
