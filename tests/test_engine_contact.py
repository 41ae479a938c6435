"""Contact windows, caps, gaps and phone numbers (engine/contact.py)."""
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from collections_followup.engine.contact import (
    ContactPolicy,
    ContactRules,
    next_contact,
    next_step_contact,
    normalize_phone,
)
from collections_followup.engine.errors import RuleError

BRUSSELS = ZoneInfo("Europe/Brussels")
RULES = ContactRules(start=time(9, 0), end=time(18, 0))


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_inside_the_window_goes_now():
    # Tuesday 31 March 2026, 10:00 in Brussels (CEST, UTC+2) = 08:00 UTC.
    assert next_contact(utc(2026, 3, 31, 8, 0), "Europe/Brussels", RULES) == (utc(2026, 3, 31, 8, 0), ())


def test_night_is_postponed_to_the_morning_local_time():
    # 02:00 in Brussels on Tuesday -> 09:00 the same day (07:00 UTC).
    moment, reasons = next_contact(utc(2026, 3, 31, 0, 0), "Europe/Brussels", RULES)
    assert moment == utc(2026, 3, 31, 7, 0)
    assert reasons == ("hours",)


def test_across_the_daylight_saving_change():
    # Friday 27 March 2026 at 19:00 CET (UTC+1) is after hours; the weekend is not
    # allowed; clocks go forward on Sunday 29 March: Monday 09:00 is CEST = 07:00 UTC.
    moment, reasons = next_contact(utc(2026, 3, 27, 18, 0), "Europe/Brussels", RULES)
    assert moment == utc(2026, 3, 30, 7, 0)
    assert moment.astimezone(BRUSSELS).hour == 9
    assert reasons == ("hours",)  # Friday evening: after hours (the weekend is skipped on the way)
    # The autumn change: Monday 26 October 2026, 09:00 CET = 08:00 UTC.
    moment, _reasons = next_contact(utc(2026, 10, 23, 18, 0), "Europe/Brussels", RULES)
    assert moment == utc(2026, 10, 26, 8, 0)


def test_customer_in_another_time_zone():
    # 15:00 UTC on Tuesday: afternoon in Brussels, but 06:00 in Los Angeles (PDT, UTC-7).
    moment, reasons = next_contact(utc(2026, 3, 31, 15, 0), "America/Los_Angeles", RULES)
    assert moment == utc(2026, 3, 31, 16, 0)  # 09:00 PDT
    assert reasons == ("hours",)


def test_start_hour_that_does_not_exist_that_day():
    rules = ContactRules(weekdays=frozenset(range(7)), start=time(2, 30), end=time(18, 0))
    # On 29 March 2026 02:30 does not exist in Brussels (02:00 -> 03:00): 03:30 CEST, 01:30 UTC.
    moment, _reasons = next_contact(utc(2026, 3, 28, 20, 0), "Europe/Brussels", rules)
    assert moment == utc(2026, 3, 29, 1, 30)


def test_cap_of_seven_calls_in_seven_days():
    rules = ContactRules(weekdays=frozenset(range(7)), start=time(0, 0), end=time(23, 59), cap=7, window_days=7)
    history = [utc(2026, 3, 24, 10, 0) + timedelta(days=i) for i in range(7)]  # 24..30 March
    moment, reasons = next_contact(utc(2026, 3, 30, 12, 0), "UTC", rules, history)
    # The oldest call (24 March 10:00) leaves the window on 31 March 10:00.
    assert moment == utc(2026, 3, 31, 10, 0)
    assert reasons == ("cap",)
    assert next_contact(utc(2026, 3, 30, 12, 0), "UTC", rules, history[1:])[1] == ()


def test_minimum_gap_then_hours():
    rules = ContactRules(start=time(9, 0), end=time(18, 0), min_gap_hours=48)
    last = [utc(2026, 3, 30, 16, 0)]  # Monday 16:00 UTC
    moment, reasons = next_contact(utc(2026, 3, 31, 9, 0), "UTC", rules, last)
    # Not before Wednesday 16:00; still within hours.
    assert moment == utc(2026, 4, 1, 16, 0)
    assert reasons == ("gap",)
    # A gap ending after hours moves on to the next morning.
    rules = ContactRules(start=time(9, 0), end=time(17, 0), min_gap_hours=48)
    moment, reasons = next_contact(utc(2026, 3, 31, 9, 0), "UTC", rules, [utc(2026, 3, 30, 17, 30)])
    assert moment == utc(2026, 4, 2, 9, 0)
    assert reasons == ("gap", "hours")


def test_bad_rules_are_refused():
    with pytest.raises(RuleError):
        next_contact(utc(2026, 3, 31), "UTC", ContactRules(weekdays=frozenset()))
    with pytest.raises(RuleError):
        next_contact(utc(2026, 3, 31), "UTC", ContactRules(start=time(18), end=time(9)))
    with pytest.raises(RuleError) as err:
        next_contact(utc(2026, 3, 31), "Mars/Olympus", RULES)
    assert err.value.code == "tz"


@pytest.mark.parametrize("number,country,expected", [
    ("0470 12 34 56", "BE", ("+32470123456", None)),
    ("+1 (650) 253-0000", None, ("+16502530000", None)),
    ("06 12 34 56 78", "FR", ("+33612345678", None)),
    ("12", "BE", (None, "invalid")),
    ("call me", "BE", (None, "invalid")),
    ("", "BE", (None, "empty")),
])
def test_phone_numbers(number, country, expected):
    assert normalize_phone(number, country) == expected


POLICY = ContactPolicy(caps=(("sms", 2), ("call", 7)), window_days=7, min_gap_hours=24)


def test_step_goes_now_when_every_channel_allows_it():
    # Tuesday 10:00 in Brussels, nothing sent before.
    assert next_step_contact(utc(2026, 3, 31, 8, 0), "Europe/Brussels", POLICY, {"email", "sms"}) == (
        utc(2026, 3, 31, 8, 0), (),
    )


def test_step_waits_for_its_most_constrained_channel():
    # Two SMS this week (cap 2): the step (email + SMS) waits until the older one
    # leaves the 7-day window, Thursday 2 April 11:00 local; the email alone could go now.
    history = [("sms", utc(2026, 3, 26, 9, 0)), ("sms", utc(2026, 3, 27, 9, 0))]
    moment, reasons = next_step_contact(utc(2026, 3, 31, 8, 0), "Europe/Brussels", POLICY, {"email", "sms"}, history)
    assert moment == utc(2026, 4, 2, 9, 0)
    assert ("sms", "cap") in reasons
    moment, reasons = next_step_contact(utc(2026, 3, 31, 8, 0), "Europe/Brussels", POLICY, {"email"}, history)
    assert (moment, reasons) == (utc(2026, 3, 31, 8, 0), ())


def test_step_gap_counts_reminders_of_every_channel():
    # An email yesterday at 17:00 local: 24 hours later is 17:00 today, inside the hours.
    history = [("email", utc(2026, 3, 30, 15, 0))]
    moment, reasons = next_step_contact(utc(2026, 3, 31, 8, 0), "Europe/Brussels", POLICY, {"sms"}, history)
    assert moment == utc(2026, 3, 31, 15, 0)
    assert reasons == (("all", "gap"),)
    # The gap ends at 19:00 local: after hours, so the next morning.
    history = [("email", utc(2026, 3, 30, 17, 0))]
    moment, reasons = next_step_contact(utc(2026, 3, 31, 8, 0), "Europe/Brussels", POLICY, {"sms"}, history)
    assert moment == utc(2026, 4, 1, 7, 0)
    assert reasons == (("all", "gap"), ("all", "hours"))
