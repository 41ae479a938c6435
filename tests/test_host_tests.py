"""tools/host_tests.py: which of Odoo's tests run again without the addons, read from the log of the run with them."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import host_tests

STAMP = "2026-12-04 14:50:42,956 25071"
DB = "collections_host_x_addons"
TAGS = "/sale:TestSaleOrder,/account:TestAccountMoveSend"


def _log(tmp_path, *lines, tests=3):
    path = tmp_path / "odoo-host-addons.log"
    path.write_text("\n".join([*lines, f"{STAMP} ERROR {DB} odoo.tests.result: 1 failed, 0 error(s) of {tests} tests "
                                       f"when loading database '{DB}'"]) + "\n", encoding="utf-8")
    return path


def _starting(module, test):
    return f"{STAMP} INFO {DB} odoo.addons.{module}.tests.test_x: Starting {test} ... "


def test_the_failing_test_and_the_one_that_logged_an_error_run_again(tmp_path):
    log = _log(
        tmp_path,
        _starting("sale", "TestSaleOrder.test_a"),
        f"{STAMP} ERROR {DB} odoo.addons.sale.tests.test_x: FAIL: TestSaleOrder.test_a",
        "Traceback (most recent call last):",
        "AssertionError: 1 != 2",
        _starting("sale", "TestSaleOrder.test_b"),
        _starting("account", "TestAccountMoveSend.test_c"),
        f"{STAMP} ERROR {DB} odoo.addons.account.models.account_move: could not send 42 invoices",
    )
    total, failures, errors = host_tests.parse(log)
    assert total == 3
    assert failures == {"FAIL /sale:TestSaleOrder.test_a": "AssertionError: 1 != 2"}
    assert errors == {"odoo.addons.account.models.account_move: could not send # invoices":
                      "/account:TestAccountMoveSend.test_c"}
    assert host_tests.baseline_tags(failures, errors, TAGS) == \
        "/account:TestAccountMoveSend.test_c,/sale:TestSaleOrder.test_a"


def test_a_failure_of_no_single_test_runs_the_whole_selection_again(tmp_path):
    log = _log(tmp_path, f"{STAMP} ERROR {DB} odoo.addons.sale.tests.test_x: ERROR: setUpClass "
                         "(odoo.addons.sale.tests.test_x.TestSaleOrder)", "ValueError: no company")
    _total, failures, errors = host_tests.parse(log)
    assert list(failures) == ["ERROR /sale:setUpClass (odoo.addons.sale.tests.test_x.TestSaleOrder)"]
    assert host_tests.baseline_tags(failures, errors, TAGS) == TAGS


def test_an_error_logged_before_any_test_runs_the_whole_selection_again(tmp_path):
    log = _log(tmp_path, f"{STAMP} ERROR {DB} odoo.modules.loading: a module failed",
               _starting("sale", "TestSaleOrder.test_a"))
    _total, failures, errors = host_tests.parse(log)
    assert errors == {"odoo.modules.loading: a module failed": None}
    assert host_tests.baseline_tags(failures, errors, TAGS) == TAGS


def test_nothing_runs_again_when_every_test_passed(tmp_path):
    log = _log(tmp_path, _starting("sale", "TestSaleOrder.test_a"))
    assert host_tests.baseline_tags(*host_tests.parse(log)[1:], TAGS) == ""
