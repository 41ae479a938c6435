"""Level resolution rules of engine/levels.py (no Odoo needed)."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from collections_followup.engine import (
    Level,
    OpenItem,
    aging_bucket,
    decide_partner,
    validate_levels,
)
from collections_followup.engine.levels import LevelConfigError

TODAY = date(2026, 3, 31)
COURTESY = Level(1, -3, name="Courtesy")
FIRST = Level(2, 7, name="First")
SECOND = Level(3, 20, Decimal("50"), name="Second")
FINAL = Level(4, 45, name="Final")
LEVELS = [FINAL, FIRST, COURTESY, SECOND]  # any order


def item(move_id, late, residual, reached=None, last=None, excluded=False):
    return OpenItem(
        move_id=move_id,
        due_date=TODAY - timedelta(days=late),
        residual=Decimal(str(residual)),
        reached_delay=reached,
        last_reminder_date=last,
        excluded=excluded,
    )


def test_nothing_open_means_nothing_due():
    decision = decide_partner(LEVELS, [], TODAY)
    assert decision.status == "none"
    assert decision.level_id is None


def test_courtesy_before_due_date():
    decision = decide_partner(LEVELS, [item(10, -2, 100)], TODAY)
    assert decision.status == "action"
    assert decision.level_id == COURTESY.id
    assert decision.listed_move_ids == (10,)
    assert decision.total_overdue == 0


def test_not_yet_in_courtesy_window_waits():
    decision = decide_partner(LEVELS, [item(10, -10, 100)], TODAY)
    assert decision.status == "waiting"
    assert decision.next_action_date == TODAY + timedelta(days=7)


def test_levels_climb_one_at_a_time():
    # 120 days late and never reminded: first level, not the final notice.
    decision = decide_partner(LEVELS, [item(10, 120, 100, reached=-3, last=TODAY - timedelta(days=130))], TODAY)
    assert decision.level_id == FIRST.id


def test_overdue_item_never_reminded_skips_the_courtesy_level():
    decision = decide_partner(LEVELS, [item(10, 50, 100)], TODAY)
    assert decision.level_id == FIRST.id
    # Still before the due date: the courtesy reminder comes first.
    assert decide_partner(LEVELS, [item(10, -1, 100)], TODAY).level_id == COURTESY.id


def test_gap_between_levels_is_kept_after_a_late_start():
    # First reminder sent 5 days ago on a 120-day-old invoice: the second level
    # waits for the 13-day gap between the first (7) and second (20) levels.
    reminded = TODAY - timedelta(days=5)
    decision = decide_partner(LEVELS, [item(10, 120, 100, reached=7, last=reminded)], TODAY)
    assert decision.status == "waiting"
    assert decision.next_action_date == reminded + timedelta(days=13)


def test_highest_level_wins_and_all_overdue_items_are_listed():
    items = [
        item(10, 8, 100, reached=-3, last=TODAY - timedelta(days=11)),  # -> first
        item(11, 50, 200, reached=20, last=TODAY - timedelta(days=30)),  # -> final
        item(12, 25, 300, reached=20, last=TODAY - timedelta(days=1)),  # waits, still listed
        item(13, -1, 50),  # its courtesy reminder is due: listed too, as not yet due
        item(14, -30, 70),  # far from due: neither advancing nor listed
    ]
    decision = decide_partner(LEVELS, items, TODAY)
    assert decision.status == "action"
    assert decision.level_id == FINAL.id
    assert decision.advancing_move_ids == (10, 11, 13)
    assert decision.listed_move_ids == (10, 11, 12, 13)
    assert decision.total_overdue == Decimal("600")
    assert decision.total_due == Decimal("720")
    assert decision.oldest_days_late == 50


def test_partial_payment_counts_by_residual():
    items = [item(10, 25, "30.00", reached=7, last=TODAY - timedelta(days=18))]
    decision = decide_partner(LEVELS, items, TODAY)
    # Second level asks at least 50: 30 left to pay is below it.
    assert decision.status == "none"
    assert decision.reason == "below_minimum"
    items = [item(10, 25, "50.00", reached=7, last=TODAY - timedelta(days=18))]
    assert decide_partner(LEVELS, items, TODAY).level_id == SECOND.id


def test_excluded_item_is_neither_listed_nor_counted():
    items = [item(10, 10, 100, excluded=True), item(11, 10, 40)]
    decision = decide_partner(LEVELS, items, TODAY)
    assert decision.listed_move_ids == (11,)
    assert decision.total_overdue == Decimal("40")
    only_excluded = decide_partner(LEVELS, [item(10, 10, 100, excluded=True)], TODAY)
    assert only_excluded.status == "none"


def test_excluded_customer():
    decision = decide_partner(LEVELS, [item(10, 10, 100)], TODAY, excluded=True)
    assert decision.status == "excluded"
    assert decision.advancing_move_ids == ()


def test_unallocated_credit_covering_the_debt_stops_follow_up():
    items = [item(10, 10, 100), item(11, 0, -100)]
    decision = decide_partner(LEVELS, items, TODAY)
    assert decision.status == "none"
    assert decision.reason == "nothing_due"


def test_unapplied_credit_is_allocated_to_the_reminded_items_first():
    """1,000 overdue and an unapplied 300 credit note: the reminder asks for 700."""
    decision = decide_partner(LEVELS, [item(10, 10, 1000), item(11, 40, -300)], TODAY)
    assert decision.status == "action"
    assert decision.listed_move_ids == (10,)
    assert decision.total_credits == Decimal(300)
    assert decision.net_to_pay == Decimal(700)


def test_credits_covering_the_overdue_items_stop_the_reminder_even_with_more_not_yet_due():
    """Before: 1,000 overdue, 1,000 credit, 500 not yet due: reminded for 1,000 (total due 500 > 0)."""
    items = [item(10, 10, 1000), item(11, 5, -1000), item(12, -20, 500)]
    decision = decide_partner(LEVELS, items, TODAY)
    assert decision.status == "none"
    assert decision.reason == "covered_by_credits"
    assert decision.net_to_pay == 0


def test_no_late_reminder_when_credits_cover_the_overdue_even_with_a_courtesy_reminder_due():
    """Deco Addict on the demo: 2,500 15 days late, two invoices due today (courtesy level due), credits of 6,000
    covering the late one: a "First reminder" asked for what falls due. Nothing overdue net: no late reminder."""
    items = [item(10, 15, 2500), item(11, 0, 3000), item(12, 0, 3000), item(13, 20, -6000),
             item(14, 5, -500, excluded=True)]  # a statement line on the receivable: no follow-up, still a credit
    decision = decide_partner(LEVELS, items, TODAY)
    assert decision.total_credits == Decimal(6500)
    assert decision.net_overdue == 0
    assert (decision.status, decision.reason) == ("none", "covered_by_credits")
    # Only courtesy due (nothing late): the courtesy reminder still goes out, net of the credits.
    courtesy = decide_partner(LEVELS, [item(11, -3, 3000), item(13, 20, -1000)], TODAY)
    assert (courtesy.status, courtesy.level_id, courtesy.net_to_pay) == ("action", COURTESY.id, Decimal(2000))


def test_level_minimum_applies_to_the_net_amount():
    # SECOND needs 50: 60 overdue less a 20 credit is 40.
    items = [item(10, 25, 60, reached=7, last=TODAY - timedelta(days=18)), item(11, 0, -20)]
    decision = decide_partner(LEVELS, items, TODAY)
    assert decision.status == "none"
    assert decision.reason == "below_minimum"
    items = [item(10, 25, 80, reached=7, last=TODAY - timedelta(days=18)), item(11, 0, -20)]
    assert decide_partner(LEVELS, items, TODAY).net_to_pay == Decimal(60)


def test_instalments_each_count_with_their_own_due_date():
    """A 30 % / 70 % term: the first instalment is 10 days late, the second due in 20 days."""
    items = [item(10, 10, 300), item(10, -20, 700)]
    decision = decide_partner(LEVELS, items, TODAY)
    assert decision.status == "action"
    assert decision.level_id == FIRST.id
    assert decision.total_overdue == Decimal(300)
    assert decision.net_to_pay == Decimal(300)
    assert decision.listed_move_ids == (10,)
    assert decision.oldest_days_late == 10


def test_postponed_customer_waits_until_the_later_date():
    later = TODAY + timedelta(days=4)
    decision = decide_partner(LEVELS, [item(10, 10, 100)], TODAY, postponed_until=later)
    assert decision.status == "waiting"
    assert decision.next_action_date == later
    assert decide_partner(LEVELS, [item(10, 10, 100)], later, postponed_until=later).status == "action"


def test_rerun_after_sending_sends_nothing():
    first = decide_partner(LEVELS, [item(10, 10, 100)], TODAY)
    assert first.level_id == FIRST.id
    # The run records the first level as reached today: the next run the same day waits.
    again = decide_partner(LEVELS, [item(10, 10, 100, reached=7, last=TODAY)], TODAY)
    assert again.status == "waiting"
    assert again.next_action_date == TODAY + timedelta(days=13)


def test_final_level_reached_has_no_next_date():
    decision = decide_partner(LEVELS, [item(10, 100, 100, reached=45, last=TODAY)], TODAY)
    assert decision.status == "none"
    assert decision.next_action_date is None


def test_validate_levels_rejects_duplicate_delays():
    with pytest.raises(LevelConfigError, match="same delay"):
        validate_levels([Level(1, 7), Level(2, 7)])
    with pytest.raises(LevelConfigError, match="negative"):
        validate_levels([Level(1, 7, Decimal("-1"), name="X")])
    validate_levels(LEVELS)


@pytest.mark.parametrize(
    ("late", "bucket"),
    [(-5, "not_due"), (0, "not_due"), (1, "1_30"), (30, "1_30"), (31, "31_60"),
     (90, "61_90"), (120, "91_120"), (121, "over_120")],
)
def test_aging_buckets(late, bucket):
    assert aging_bucket(late) == bucket


def test_paused_item_is_counted_but_not_chased():
    """An invoice under a plan or promise stays in the totals, out of the reminder."""
    paused = OpenItem(1, TODAY - timedelta(days=30), Decimal("100"), paused_until=date.max)
    chased = OpenItem(2, TODAY - timedelta(days=30), Decimal("50"))
    decision = decide_partner(LEVELS, [paused, chased], TODAY)
    assert decision.status == "action"
    assert decision.listed_move_ids == (2,)
    assert decision.advancing_move_ids == (2,)
    assert decision.total_overdue == Decimal("150")


def test_all_paused_waits_until_the_pause_ends():
    until = TODAY + timedelta(days=5)
    paused = OpenItem(1, TODAY - timedelta(days=30), Decimal("100"), paused_until=until)
    decision = decide_partner(LEVELS, [paused], TODAY)
    assert decision.status == "waiting"
    assert decision.reason == "paused"
    assert decision.next_action_date == until + timedelta(days=1)
    # Paused until further notice (an active plan): no date to announce.
    forever = OpenItem(1, TODAY - timedelta(days=30), Decimal("100"), paused_until=date.max)
    decision = decide_partner(LEVELS, [forever], TODAY)
    assert (decision.status, decision.reason, decision.next_action_date) == ("waiting", "paused", None)


def test_pause_ended_yesterday_resumes_today():
    paused = OpenItem(1, TODAY - timedelta(days=30), Decimal("100"), paused_until=TODAY - timedelta(days=1))
    assert decide_partner(LEVELS, [paused], TODAY).status == "action"


def test_the_reasons_of_a_reminder_name_each_rule_with_its_values():
    """A hand-made customer whose every reason is known: which rule held each invoice back or let it
    advance, with the numbers the rule compared."""
    items = [
        item(10, 25, 300),  # First reached? no: 25 days late, no level yet -> First due (7 days)
        item(11, 30, 200, reached=7, last=TODAY - timedelta(days=5)),  # Second's delay reached, gap of 13 days not
        item(12, -10, 400),  # not due yet: the courtesy reminder falls due 3 days before its due date
        item(13, 60, 100, reached=45, last=TODAY - timedelta(days=15)),  # the last level reached
        item(14, 40, -150),  # a credit note not matched yet
        OpenItem(15, TODAY - timedelta(days=50), Decimal(80), None, None, False, TODAY + timedelta(days=4)),
        item(16, 90, 10, excluded=True),
    ]
    decision = decide_partner(LEVELS, items, TODAY, explain=True)
    head, *per_item = decision.trace
    assert decision.status == "action" and decision.level_id == FIRST.id
    # listed: 10 (due), 11 and 13 (late enough for First, listed without advancing); 300+200+100-150
    assert head == ("action", {"level_id": 2, "level": "First", "delay": 7, "amount": Decimal(450),
                               "credits": Decimal(150), "count": 3, "minimum": Decimal(0)}, None, None)
    by_move = {reason.move_id: reason for reason in per_item}
    assert by_move[10].code == "item_due" and by_move[10].values["days_late"] == 25
    assert by_move[10].values["level"] == "First" and by_move[10].values["gap"] == 0
    assert by_move[11].code == "item_listed" and by_move[11].values["reached"] == "First"
    assert by_move[12].code == "item_wait_delay"
    assert by_move[12].values["level"] == "Courtesy" and by_move[12].values["on"] == TODAY + timedelta(days=7)
    assert by_move[13].code == "item_listed" and by_move[13].values["reached"] == "Final"
    assert by_move[14] == ("item_credit", {"amount": Decimal(150), "days_late": 40}, 14, None)
    assert by_move[15].code == "item_paused" and by_move[15].values["until"] == TODAY + timedelta(days=4)
    assert by_move[16].code == "item_excluded"
    # Without First due, invoice 11 waits for the gap since its last reminder: 13 days after it.
    decision = decide_partner(LEVELS, [items[1]], TODAY, explain=True)
    head, reason = decision.trace
    assert head == ("waiting", {"next": TODAY + timedelta(days=8)}, None, None)
    assert reason.code == "item_wait_gap" and reason.values["gap"] == 13
    assert reason.values["on"] == TODAY + timedelta(days=8) and reason.values["level"] == "Second"
    # Below the minimum: what the level would ask for and its minimum, side by side.
    decision = decide_partner(LEVELS, [item(20, 25, 30, reached=7, last=TODAY - timedelta(days=18))], TODAY,
                              explain=True)
    assert decision.trace[0] == ("below_minimum", {"level_id": 3, "level": "Second", "delay": 20,
                                                   "amount": Decimal(30), "minimum": Decimal(50)}, None, None)
