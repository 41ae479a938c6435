"""make test-host: Odoo's own tests of what the addons change, with and without the addons.

The test classes of sale and account that go through what the addons extend
(confirming orders, credit limits, posting and editing invoices, registering
payments, sending invoices) run on a database with the addons installed: a copy
of a baseline database (the modules the addons depend on, and sale; no demo
data, Odoo's default and its CI's). Each test that fails, errs or logs an error
there runs again on the baseline, without the addons (the whole selection when
a failure cannot be tied to one test, e.g. a class set-up; nothing when every
test passed). A failure or logged error the baseline does not have is the
addons' doing: the tool fails on it, and when a run ran no test. Both databases
are dropped at the end. Closing line: "odoo host tests: N passed, N failed"
(tests run with the addons minus new failures, new failures).
"""
import ast
import os
import re
import socket
import subprocess
import sys
import time
import uuid

from common import ADDONS, ROOT, autovacuum_off, odoo_bin, tally_line
from run_tests import HOST_BUDGET

TESTS = {
    # confirmation and credit limits (test_commercial_partner_credit is in TestSaleOrderCreditLimit)
    "sale": ["TestSaleOrderCreditLimit", "TestSaleOrder"],
    # invoice onchanges and posting, payments, sending (override fields, hooks on account.move)
    "account": ["TestAccountMoveOutInvoiceOnchanges", "TestAccountPaymentRegister", "TestAccountMoveSend"],
}
DEADLINE = time.monotonic() + HOST_BUDGET  # every step together, so that make test never has to kill us
FAILURE = re.compile(r"^\S+ \S+ \d+ ERROR \S+ odoo\.addons\.(\w+)\.\S+: (FAIL|ERROR): (.+)$")
LOG_ERROR = re.compile(r"^\S+ \S+ \d+ (?:ERROR|CRITICAL) \S+ (\S+: .*)$")
STARTING = re.compile(r"^\S+ \S+ \d+ INFO \S+ odoo\.addons\.(\w+)\.\S+: Starting (\w+\.\w+) \.\.\.")
ONE_TEST = re.compile(r"^(FAIL|ERROR) (/\w+:\w+\.\w+)$")
NEW_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d ")


def base_modules():
    """What the addons depend on, without themselves: the baseline's modules."""
    depends = set()
    for addon in ADDONS:
        manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text(encoding="utf-8"))
        depends.update(manifest["depends"])
    return sorted(depends - set(ADDONS))


def odoo(args, log_name, odoo_src, addons_path):
    """odoo-bin with args, its output appended to log_name; returns (exit code, seconds)."""
    with socket.socket() as sock:  # a free port: the HTTP server starts with --test-enable
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = odoo_bin(odoo_src, addons_path, *args, "--stop-after-init", "--http-interface=127.0.0.1",
                   f"--http-port={port}")
    print("+", " ".join(cmd), flush=True)
    started = time.time()
    with open(ROOT / log_name, "a", encoding="utf-8") as log:
        try:
            code = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False,
                                  timeout=max(DEADLINE - time.monotonic(), 1)).returncode
        except subprocess.TimeoutExpired:
            code = f"killed: over the budget of {HOST_BUDGET // 60} minutes"
    return code, time.time() - started


def odoo_db(command, odoo_src, addons_path):
    """`odoo-bin db ...` (duplicate, drop): filestore included."""
    return subprocess.run(odoo_bin(odoo_src, addons_path, *command, command="db"),
                          cwd=ROOT, capture_output=True, text=True, check=False)


def installed(db):
    out = subprocess.run(["psql", "-d", db, "-Atc", "SELECT name FROM ir_module_module WHERE state = 'installed'"],
                         capture_output=True, text=True, check=False).stdout
    return set(out.split())


def parse(log_name):
    """(tests run or None, {test: error text}, {error log line: test tag or None}) of an Odoo test log.

    A logged error belongs to the test last started before it (None: before any test)."""
    text = (ROOT / log_name).read_text(encoding="utf-8", errors="replace")
    totals = re.findall(r"\d+ failed, \d+ error\(s\) of (\d+) tests when loading database", text)
    failures, log_errors, current, running = {}, {}, None, None
    for line in text.splitlines():
        if NEW_LOG_LINE.match(line):
            current = None
            if match := STARTING.match(line):
                running = "/{}:{}".format(*match.groups())
            elif match := FAILURE.match(line):
                module, flavour, test = match.groups()
                current = f"{flavour} /{module}:{test}"
                failures[current] = ""
            elif (match := LOG_ERROR.match(line)) and "when loading database" not in line:
                log_errors.setdefault(re.sub(r"\d+", "#", match.group(1))[:200], running)
        elif current and line.strip():
            failures[current] = line.strip()  # the traceback's last line: the exception and its message
    return (int(totals[-1]) if totals else None), failures, log_errors


def baseline_tags(failures, log_errors, tags):
    """The test tags to run again without the addons: the failing tests, all of them when one is not a test."""
    suspects = {match.group(2) if (match := ONE_TEST.match(test)) else None for test in failures}
    suspects.update(log_errors.values())
    if None in suspects:
        return tags
    return ",".join(sorted(suspects))


def main():
    odoo_src, addons_path = os.environ.get("ODOO_SRC"), os.environ.get("ADDONS_PATH")
    if not odoo_src or not addons_path:
        print("ODOO_SRC / ADDONS_PATH are not set: run through 'make test-host'.")
        print(tally_line("odoo host tests", 0, 1))
        sys.exit(2)
    stamp = f"collections_host_{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
    base_db, addons_db = f"{stamp}_base", f"{stamp}_addons"
    tags = ",".join(f"/{module}:{cls}" for module, classes in TESTS.items() for cls in classes)
    modules = base_modules()
    problems, times, runs = [], {}, {}
    logs = {base_db: "odoo-host-baseline.log", addons_db: "odoo-host-addons.log"}
    for log_name in logs.values():
        (ROOT / log_name).unlink(missing_ok=True)
    try:
        code, times["install baseline"] = odoo(["-d", base_db, "-i", ",".join(modules), "--log-level=warn"],
                                               logs[base_db], odoo_src, addons_path)
        if code != 0:
            raise RuntimeError(f"installing {modules} failed (exit {code}, see {logs[base_db]})")
        started = time.time()
        copy = odoo_db(["duplicate", base_db, addons_db], odoo_src, addons_path)
        times["copy"] = time.time() - started
        if copy.returncode != 0:
            raise RuntimeError(f"copying the baseline failed: {(copy.stdout + copy.stderr)[-500:]}")
        code, times["install addons"] = odoo(["-d", addons_db, "-i", ",".join(ADDONS), "--log-level=warn"],
                                             logs[addons_db], odoo_src, addons_path)
        if code != 0:
            raise RuntimeError(f"installing the addons failed (exit {code}, see {logs[addons_db]})")
        extra = installed(addons_db) - installed(base_db) - set(ADDONS)
        if extra:
            print(f"note: the addons also installed {sorted(extra)}, which the baseline does not have")
        for label, db in (("addons", addons_db), ("baseline", base_db)):
            run_tags = tags if label == "addons" else baseline_tags(runs["addons"][1], runs["addons"][2], tags)
            if not run_tags:
                print("baseline: not run, every test passed with the addons")
                runs[label] = (None, {}, {})
                continue
            autovacuum_off(db)
            code, times[f"tests {label}"] = odoo(["-d", db, "--test-enable", "--test-tags", run_tags,
                                                  "--log-level=test"], logs[db], odoo_src, addons_path)
            if isinstance(code, str):  # killed: its log is incomplete
                raise RuntimeError(f"tests {label}: {code}")
            runs[label] = parse(logs[db])
            if label == "baseline" and run_tags != tags:
                print(f"baseline: run again without the addons: {run_tags}")
    except RuntimeError as error:
        problems.append(str(error))
    finally:
        for db in (base_db, addons_db):
            odoo_db(["drop", db], odoo_src, addons_path)
            subprocess.run(["dropdb", "--if-exists", db], capture_output=True, check=False)

    print("Odoo's tests run:", tags)
    print("times:", ", ".join(f"{name} {seconds:.0f}s" for name, seconds in times.items()))
    new, passed = {}, 0
    if len(runs) == 2:
        for label, (total, failures, _errors) in runs.items():
            print(f"{label}: {total} tests, {len(failures)} failed or in error")
            for test, error in sorted(failures.items()):
                print(f"  {test}: {error[:300]}")
        (total, failures, errors), (base_total, base_failures, base_errors) = runs["addons"], runs["baseline"]
        if not total:
            problems.append("the addons run ran no test")
        if (failures or errors) and not base_total:
            problems.append("the baseline run ran no test")
        new = {test: error for test, error in failures.items() if test not in base_failures}
        new.update({f"logged: {line}": "" for line in sorted(set(errors) - set(base_errors))})
        for test, error in sorted(new.items()):
            print(f"NEW with the addons: {test}\n    {error[:300]}")
        if shared := set(failures) & set(base_failures):
            print(f"{len(shared)} failing without the addons too (not theirs, counted as passed)")
        passed = max((total or 0) - len(new), 0)
    for problem in problems:
        print("  problem:", problem)
    failed = len(new) + len(problems)
    print(tally_line("odoo host tests", passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
