"""Credit check and banner rules of engine/credit.py."""
from decimal import Decimal

from collections_followup.engine.credit import Exposure, credit_check, credit_state


def test_exposure_adds_its_three_parts():
    assert Exposure(Decimal("100"), Decimal("20.5"), Decimal("0.5")).total == Decimal("121.0")


def test_no_limit_never_blocks():
    assert credit_check(0, 10**9, 10**6).status == "ok"


def test_hold_blocks_whatever_the_amounts():
    check = credit_check(0, 0, 1, on_hold=True)
    assert (check.status, check.reason) == ("block", "hold")


def test_over_limit_warns_or_blocks_by_policy():
    warn = credit_check(1000, 900, "150.00")
    assert (warn.status, warn.reason) == ("warn", "over_limit")
    assert warn.excess == Decimal("50.00")
    assert warn.exposure_after == Decimal("1050.00")
    assert credit_check(1000, 900, 150, block_over_limit=True).status == "block"
    # Exactly at the limit is allowed.
    assert credit_check(1000, 900, 100, block_over_limit=True).status == "ok"


def test_banner_colours():
    assert credit_state(1000, 500, 0) == ""
    assert credit_state(1000, 900, 0) == "amber"
    assert credit_state(1000, 100, 10) == "amber"
    assert credit_state(1000, 1001, 0) == "red"
    assert credit_state(0, 10**6, 0) == ""
    assert credit_state(0, 0, 0, on_hold=True) == "red"
