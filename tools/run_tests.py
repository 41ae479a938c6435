"""make test: lint, engine tests, then the Odoo suite on a fresh database.

Prints one closing line "N passed, N failed" totalling every part and exits
non-zero on any failure, error, traceback during install or skipped test
(a skipped browser tour proves nothing).
"""
import argparse
import csv
import glob
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

from common import ADDONS, DATA_DIR, PYTHON, ROOT, AutovacuumOff, odoo_bin, tally_line

ODOO_TIMEOUT = 45 * 60  # a hung suite must fail well before CI's own limit
HOST_BUDGET = 40 * 60  # tools/host_tests.py: all its steps together
PYLINT_SKIPPED = [
    "manifest-maintainers-list",
    "missing-readme",
    "website-manifest-key-not-valid-uri",
    "consider-merging-classes-inherited",
    "development-status-allowed",
    "translation-positional-used",
    "no-raise-unlink",
    "prefer-env-translation",
]


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.notes = []

    def add(self, name, passed, failed, note=""):
        self.passed += passed
        self.failed += failed
        status = "ok" if not failed else "FAILED"
        self.notes.append(f"{tally_line(name, passed, failed)} {note}".rstrip() + f" [{status}]")


def run(cmd, **kwargs):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=False, **kwargs)


def lint(tally):
    ruff = run([PYTHON, "-m", "ruff", "check", "."])
    tally.add("ruff", int(ruff.returncode == 0), int(ruff.returncode != 0))
    pylint = run([
        PYTHON, "-m", "pylint", "--rcfile", str(ROOT / ".pylintrc"),
        # pylint-odoo checks that do not apply to this project (see .pylintrc for the rest)
        "--disable=" + ",".join(PYLINT_SKIPPED), *ADDONS,
    ])
    tally.add("pylint-odoo", int(pylint.returncode == 0), int(pylint.returncode != 0))
    from lxml import etree

    bad = []
    for path in glob.glob(str(ROOT / "collections_*/**/*.xml"), recursive=True):
        try:
            etree.parse(path)
        except etree.XMLSyntaxError as error:
            bad.append(f"{path}: {error}")
    for path in glob.glob(str(ROOT / "collections_*/**/*.csv"), recursive=True):
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        widths = {len(row) for row in rows}
        if len(widths) != 1:
            bad.append(f"{path}: rows have different numbers of columns {sorted(widths)}")
    for line in bad:
        print(line)
    tally.add("xml/csv", int(not bad), int(bool(bad)))
    readme = run([PYTHON, str(ROOT / "tools" / "gen_readme.py"), "--check"])
    tally.add("readme (generated)", int(readme.returncode == 0), int(readme.returncode != 0))
    # Odoo 19 runs on Python 3.10: compile, stdlib names and engine tests under a 3.10 interpreter.
    # Without a 3.10 interpreter the check is not run (exit 2) and counts neither way, except under CI=true,
    # where py310_check.py fails (exit 1): CI must run it.
    py310 = run([PYTHON, str(ROOT / "tools" / "py310_check.py")])
    if py310.returncode == 2:
        tally.add("python 3.10", 0, 0, "(not run: no interpreter on this machine; CI runs it)")
    else:
        tally.add("python 3.10", int(py310.returncode == 0), int(py310.returncode != 0))


def engine_tests(tally):
    proc = run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], capture_output=True, text=True)
    print(proc.stdout[-4000:], proc.stderr[-2000:])
    last = proc.stdout.splitlines()[-1] if proc.stdout.strip() else ""
    passed = sum(int(n) for n in re.findall(r"(\d+) passed", last))
    failed = sum(int(n) for n in re.findall(r"(\d+) (?:failed|error)", last))
    if proc.returncode not in (0, 1) or passed == 0:
        failed = max(failed, 1)
    tally.add("engine (pytest)", passed, failed)


def odoo_tests(tally):
    odoo_src = os.environ.get("ODOO_SRC")
    addons_path = os.environ.get("ADDONS_PATH")
    if not odoo_src or not addons_path:
        print("ODOO_SRC / ADDONS_PATH are not set: run through 'make test'.")
        tally.add("odoo", 0, 1)
        return
    db = f"collections_test_{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:6]}"
    log_path = ROOT / "odoo-test.log"
    port = str(18069 + os.getpid() % 1000)
    cmd = odoo_bin(
        odoo_src, addons_path, "-d", db, "-i", ",".join(ADDONS), "--test-enable",
        "--test-tags", ",".join(f"/{a}" for a in ADDONS),
        "--stop-after-init", "--log-level=test", f"--http-port={port}", "--http-interface=127.0.0.1",
    )
    started = time.time()
    timed_out = False
    try:
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            with AutovacuumOff(db):
                try:
                    proc.wait(timeout=ODOO_TIMEOUT)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    proc.kill()
                    proc.wait()
        report_odoo(tally, log_path, proc, timed_out, started)
        if not timed_out and "when loading database" in log_path.read_text(encoding="utf-8", errors="replace"):
            # The addons are installed: the translation check reads this database, the packaging
            # check updates a copy of it; the crash and concurrency tests come last (they end by
            # uninstalling the addons).
            tool_check(tally, "i18n", ["i18n.py", "check", "--db", db, "--odoo-src", odoo_src,
                                       "--addons-path", addons_path])
            tool_check(tally, "package", ["dist.py", "check", "--db", db, "--odoo-src", odoo_src])
            crash_tests(tally, db, odoo_src, addons_path)
    finally:
        subprocess.run(["dropdb", "--if-exists", db], check=False)
        shutil.rmtree(DATA_DIR / "filestore" / db, ignore_errors=True)


def odoo_loop(tally, tags):
    """make test-odoo TAGS=...: these Odoo test tags on a database kept between runs (collections_test_loop),
    installed the first time, the addons updated the next ones (about a minute for one class)."""
    odoo_src, addons_path = os.environ.get("ODOO_SRC"), os.environ.get("ADDONS_PATH")
    if not odoo_src or not addons_path:
        print("ODOO_SRC / ADDONS_PATH are not set: run through 'make test-odoo TAGS=...'.")
        tally.add("odoo", 0, 1)
        return
    db = os.environ.get("TEST_DB") or "collections_test_loop"
    names = ", ".join(f"'{addon}'" for addon in ADDONS)
    query = f"SELECT name FROM ir_module_module WHERE name IN ({names}) AND state = 'installed'"
    installed = set(run(["psql", "-d", db, "-Atc", query], capture_output=True, text=True).stdout.split())
    # An addon added since the database was made is installed (-u leaves uninstalled modules alone).
    update = [addon for addon in ADDONS if addon in installed]
    install = [addon for addon in ADDONS if addon not in installed]
    log_path = ROOT / "odoo-test.log"
    cmd = odoo_bin(
        odoo_src, addons_path, "-d", db, *(["-u", ",".join(update)] if update else []),
        *(["-i", ",".join(install)] if install else []), "--test-enable",
        "--test-tags", tags, "--stop-after-init", "--log-level=test", f"--http-port={18069 + os.getpid() % 1000}",
        "--http-interface=127.0.0.1",
    )
    adding = f" (installing {', '.join(install)})" if update and install else ""
    print(f"{'Updating' if update else 'Creating'} {db}{adding}, then running {tags} (log: {log_path.name})",
          flush=True)
    started = time.time()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        proc.wait(timeout=ODOO_TIMEOUT)
    report_odoo(tally, log_path, proc, False, started)


def report_odoo(tally, log_path, proc, timed_out, started):
    text = log_path.read_text(encoding="utf-8", errors="replace")
    summary = re.findall(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database", text)
    problems = []
    if not summary:
        problems.append("no test summary in the Odoo log (install failed?)")
        failed, errors, total = 0, 0, 0
    else:
        failed, errors, total = (int(x) for x in summary[-1])
    skipped = re.findall(r"INFO \S+ odoo\.addons\.\S+: skipped (.*)", text)
    skipped += [line for line in text.splitlines() if " skipped " in line and "odoo.tests" in line and "INFO" in line
                and line not in skipped]
    for line in skipped:
        problems.append(f"skipped test: {line.strip()[:300]}")
    error_lines = [line for line in text.splitlines() if re.search(r"\d (ERROR|CRITICAL) ", line)]
    if total == 0:
        problems.append("the Odoo suite ran no test")
    if timed_out:
        problems.append(f"the Odoo suite did not finish within {ODOO_TIMEOUT // 60} minutes and was killed")
    if proc.returncode != 0:
        problems.append(f"odoo-bin exited with {proc.returncode}")
    print(f"Odoo suite: {total} tests, {failed} failed, {errors} errors, {len(skipped)} skipped "
          f"in {time.time() - started:.0f}s (log: {log_path.name})")
    for line in error_lines[:60]:
        print("  ", line[:400])
    for problem in problems:
        print("  problem:", problem)
    bad = failed + errors + len(skipped)
    if not bad and (error_lines or problems):
        bad = 1
    tally.add("odoo", max(total - failed - errors - len(skipped), 0), bad)


def crash_tests(tally, db, odoo_src, addons_path):
    """Real processes killed with SIGKILL, a real SMTP server, two runs at once (tools/crash_test.py)."""
    log_path = ROOT / "crash-test.log"
    cmd = [PYTHON, str(ROOT / "tools" / "crash_test.py"), "--db", db, "--odoo-src", odoo_src,
           "--addons-path", addons_path]
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False, timeout=1800)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    print(text.rstrip())
    found = re.findall(r"^(\d+) passed, (\d+) failed$", text, re.MULTILINE)
    passed, failed = (int(x) for x in found[-1]) if found else (0, 1)
    if proc.returncode != 0 or passed == 0:
        failed = max(failed, 1)
    tally.add("crash & concurrency", passed, failed)


def tool_check(tally, name, args, timeout=900):
    """A checking tool of tools/ that ends with "<name>: N passed, N failed" (i18n.py, dist.py, host_tests.py)."""
    proc = run([PYTHON, str(ROOT / "tools" / args[0]), *args[1:]], capture_output=True, text=True, timeout=timeout)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "WARNING: Location" not in line]
    print("\n".join(lines[-40:]))
    found = re.findall(rf"^{name}: (\d+) passed, (\d+) failed$", proc.stdout, re.MULTILINE)
    passed, failed = (int(x) for x in found[-1]) if found else (0, 1)
    if proc.returncode != 0 or passed == 0:
        failed = max(failed, 1)
    tally.add(name, passed, failed)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lint-only", action="store_true")
    parser.add_argument("--odoo-tags", help="only these Odoo test tags, on a database kept between runs")
    args = parser.parse_args()
    tally = Tally()
    if args.odoo_tags:
        odoo_loop(tally, args.odoo_tags)
    else:
        lint(tally)
    if not args.lint_only and not args.odoo_tags:
        engine_tests(tally)
        odoo_tests(tally)
        # Odoo's own tests of sale and account, with and without the addons (tools/host_tests.py,
        # which stops itself within its budget and drops its databases).
        tool_check(tally, "odoo host tests", ["host_tests.py"], timeout=HOST_BUDGET + 300)
    print()
    for note in tally.notes:
        print(note)
    print(tally_line("", tally.passed, tally.failed))
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
