"""make bench: the daily run at scale, on a dedicated database.

    make bench                      # 10,000 customers / 100,000 open invoices, then 20,000 / 200,000
    make bench SIZE=10000:100000    # one size (customers:invoices)

For each size: a database with the addon (no demo data) gets a book built with SQL from one
invoice made by Odoo (tools/bench_odoo.py: `generate`), with as many invoices paid in the two years
before, each customer paying by its behaviour (on time, late, erratic, getting worse, seasonal,
partial payer: `_paid_history`), which Odoo's own views of the ledger must agree with
(`check_book`); then, each in its own `odoo-bin shell` process:

- the decision phase of the daily run against one raw SQL GROUP BY over the same open
  receivable lines (best of 5 each, measured in turns), with its query count;
- the credit check of one customer with 1 invoice and of one with 500 (queries and time);
- the run preview for tomorrow and for 14 days ahead, and 12 months of the ledger replayed with
  the default policy (read, then replay);
- the cash forecast rebuilt for every open item (its nightly job), then its 12-month backtest on the
  paid history (its monthly job): time and memory (its accuracy is `make bench-forecast`'s, on books
  whose open invoices are those their customers' behaviour left unpaid, which this book's are not);
- the whole run (decide, render, queue the emails, create the call tasks, log) for 1,000 due
  customers of a copy of the book, with the process's peak memory; the same customers with the run's two
  workers in two processes at once; every customer due today, sent by the daily run's two scheduled actions in
  an Odoo server with ``--workers=2`` and two cron threads (Odoo's slices of a scheduled action, its cron
  processes and its longpolling process included), and again by two such servers on the one database with the
  run given four workers (as two machines would run it); then for 5 of them (PDF=n) with every invoice's PDF
  attached, half of the PDFs stored beforehand (with Debian's wkhtmltopdf, one PDF a call, about a second each:
  5 customers of the 10,000 book list about 460 invoices);
- OCA's account_credit_control (19.0, from PyPI) generating its credit lines on another copy, then
  sending by email (its communications, its template without the PDF summary it attaches as shipped) to the
  same 1,000 customers as the whole run.

Prints a table and writes it at the top of bench/results.md with the machine it ran on, its raw figures at the
end; the sections written below the table (## headings) are kept. No test depends on these timings (make test
asserts query counts, never times).
"""
import argparse
import hashlib
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from common import PYTHON, ROOT, odoo_bin

BASE_DB = "collections_bench_base"
PDF_CUSTOMERS = 5  # with a tenth of the 1,000, the PDFs were still being rendered after 22 minutes
RAW = "Raw figures of the table at the top:"
SIZES = [(10_000, 100_000), (20_000, 200_000)]
OCA_REQUIREMENT = "odoo-addon-account-credit-control>=19.0,<19.1"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Odoo:
    def __init__(self, odoo_src, addons_path):
        self.odoo_src = odoo_src
        self.addons_path = addons_path

    def cli(self, db, *args, addons_path=None):
        cmd = odoo_bin(self.odoo_src, addons_path or self.addons_path, "-d", db, "--log-level=warn",
                       "--http-port=0", "--max-cron-threads=0", *args, "--stop-after-init")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"odoo-bin {' '.join(args)} on {db} failed:\n{proc.stderr[-3000:]}")

    def shell(self, db, code, addons_path=None):
        """Run ``code`` in `odoo-bin shell` (env ready); returns the BENCH records it printed."""
        return self.shells(db, [code], addons_path)

    def shells(self, db, codes, addons_path=None):
        """Run each of ``codes`` in an `odoo-bin shell` of its own, all at the same time; returns the BENCH records
        they printed."""
        cmd = odoo_bin(self.odoo_src, addons_path or self.addons_path, "-d", db, "--log-level=warn", "--no-http",
                       "--max-cron-threads=0", command="shell")
        with tempfile.TemporaryDirectory(prefix="collections_bench_shell_") as tmp:
            running = []
            for index, code in enumerate(codes):
                files = [Path(tmp) / f"{index}.{name}" for name in ("in", "out", "err")]
                files[0].write_text(f"import sys\nsys.path.insert(0, {str(ROOT / 'tools')!r})\nimport bench_odoo\n"
                                    f"{code}\n")
                with files[0].open() as stdin, files[1].open("w") as stdout, files[2].open("w") as stderr:
                    running.append((subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr), files))
            records = []
            for proc, (_script, out_file, err_file) in running:
                proc.wait()
                out, err = out_file.read_text(), err_file.read_text()
                found = [json.loads(line[6:]) for line in out.splitlines() if line.startswith("BENCH ")]
                if "Traceback" in err or "Traceback" in out:
                    sys.exit(f"odoo-bin shell on {db} failed:\n{out[-2000:]}\n{err[-4000:]}")
                if not found:
                    sys.exit(f"odoo-bin shell on {db} printed no result:\n{out[-2000:]}\n{err[-4000:]}")
                records += found
        return {record.pop("step"): record for record in records}


def createdb(name, template=None):
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    subprocess.run(["createdb", name] + (["-T", template] if template else []), check=True)


def dropdb(name):
    subprocess.run(["dropdb", "--if-exists", name], check=False)


def base_database(odoo):
    """The addon installed without demo data, updated to the working tree's code. Made again when the addon's data
    files changed since it was made: an update leaves ``noupdate`` records (the email templates) as they were, and
    the bench would measure the old ones."""
    fingerprint = data_fingerprint()
    found = subprocess.run(["psql", "-Atc", "SELECT COALESCE(shobj_description(oid, 'pg_database'), '')"
                            f" FROM pg_database WHERE datname = '{BASE_DB}'", "postgres"],
                           capture_output=True, text=True, check=True)
    made_from = found.stdout.strip() if found.stdout else None
    if made_from == fingerprint:
        log(f"updating {BASE_DB}")
        odoo.cli(BASE_DB, "-u", "collections_followup")
        return
    if made_from is not None:
        log(f"{BASE_DB} was made from other data files of the addon: making it again")
    log(f"creating {BASE_DB} (Invoicing and the addon, no demo data)")
    createdb(BASE_DB)
    odoo.cli(BASE_DB, "-i", "collections_followup")
    subprocess.run(["psql", "-qc", f"COMMENT ON DATABASE {BASE_DB} IS '{fingerprint}'", "postgres"], check=True)


def data_fingerprint():
    """A digest of what the addon loads as data (its manifest and data files)."""
    addon = ROOT / "collections_followup"
    digest = hashlib.sha256()
    for path in sorted([addon / "__manifest__.py", *(addon / "data").rglob("*"), *(addon / "security").rglob("*")]):
        if path.is_file():
            digest.update(path.relative_to(addon).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def oca_addons(workdir):
    """account_credit_control 19.0 from PyPI, unpacked where Odoo can load it; (path, version) or (None, why)."""
    target = Path(workdir) / "oca"
    proc = subprocess.run([PYTHON, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(target),
                           OCA_REQUIREMENT], capture_output=True, text=True, check=False)
    wheels = sorted(target.glob("odoo_addon_account_credit_control-*.whl"))
    if proc.returncode != 0 or not wheels:
        return None, f"pip download {OCA_REQUIREMENT} failed: {proc.stderr.strip()[-300:]}"
    with zipfile.ZipFile(wheels[-1]) as wheel:
        wheel.extractall(target / "unpacked")
    return str(target / "unpacked" / "odoo" / "addons"), wheels[-1].name


def bench_size(odoo, customers, invoices, workdir, oca, run_customers=1000, keep=False, pdf_customers=None):
    book = f"collections_bench_{customers}_{invoices}"
    result = {"customers": customers, "invoices": invoices}
    log(f"{customers} customers / {invoices} invoices: building {book}")
    createdb(book, BASE_DB)
    result.update(odoo.shell(book, f"bench_odoo.generate(env, {customers}, {invoices}, seed=20261124)"))
    result.update(odoo.shell(book, "bench_odoo.check_book(env)"))
    log(f"book built in {result['generate']['seconds']} s; checks: {result['check']['problems'] or 'all agree'}")
    log("decision phase and credit check")
    result.update(odoo.shell(book, "bench_odoo.measure_decision(env)\nbench_odoo.measure_exposure(env)"))
    log("run preview (tomorrow, in 14 days) and 12 months replayed")
    result.update(odoo.shell(book, "bench_odoo.measure_foresight(env)"))
    log("the cash forecast rebuilt for every open item")
    result.update(odoo.shell(book, "bench_odoo.measure_forecast(env)"))
    # Each sending measure on a copy of the book of its own (what one sends, the other must not find sent).
    pdf_customers = pdf_customers or PDF_CUSTOMERS
    for name, what, count in (
            ("run", f"whole run for {run_customers:,} due customers", run_customers),
            ("composer", f"Odoo's mass-mail composer, the same template for the same {run_customers:,} customers",
             run_customers),
            ("run_pdf", f"whole run for {pdf_customers:,} due customers with their invoices' PDFs (half stored)",
             pdf_customers)):
        log(what)
        copy = f"{book}_{name}"
        createdb(copy, book)
        try:
            result.update(odoo.shell(copy, f"bench_odoo.measure_{name}(env, {count})"))
        finally:
            dropdb(copy)
    log(f"whole run for the same {run_customers:,} customers with two workers at once")
    result["run_workers"] = run_two_workers(odoo, book, run_customers)
    log("the daily run as Odoo's scheduler runs it: every customer due, an Odoo server with two cron workers")
    result["run_scheduled"] = run_scheduled(odoo, book)
    log("the same with two Odoo servers on the database, two cron workers each, the run given four workers")
    result["run_scheduled_2"] = run_scheduled(odoo, book, servers=2)
    if oca[0]:
        log("OCA account_credit_control on the same book")
        copy = f"{book}_oca"
        createdb(copy, book)
        try:
            path = f"{odoo.addons_path},{oca[0]}"
            odoo.cli(copy, "-i", "account_credit_control", addons_path=path)
            log(f"OCA's credit lines, then its sending by email for the same {run_customers:,} customers")
            result.update(odoo.shell(
                copy, f"run = bench_odoo.oca_configure_and_run(env)\nbench_odoo.oca_send(env, run, {run_customers})",
                addons_path=path))
        finally:
            dropdb(copy)
    if not keep:
        dropdb(book)
    return result


def run_two_workers(odoo, book, customers):
    """The whole-run sample with the daily run's two workers (starting at 0 and at half of the list), in two
    processes on a copy of the book: their wall clock, and the emails they queued together."""
    copy = f"{book}_workers"
    createdb(copy, book)
    try:
        at = time.time() + 30  # both processes loaded and their sample decided before either starts
        workers = odoo.shells(copy, [f"bench_odoo.measure_run_worker(env, {customers}, {start}, {at})"
                                     for start in (0.0, 0.5)])
        mails = int(subprocess.run(["psql", "-Atc", "SELECT count(*) FROM mail_mail WHERE state = 'outgoing'", copy],
                                   capture_output=True, text=True, check=True).stdout.strip())
    finally:
        dropdb(copy)
    seconds = max(w["ended"] for w in workers.values()) - min(w["began"] for w in workers.values())
    handled = [w["handled"] for w in workers.values()]
    sampled = next(iter(workers.values()))["customers"]
    if mails < sampled or sum(handled) != sampled:
        sys.exit(f"two workers handled {handled} customers and queued {mails} emails for {sampled} sampled")
    return {"workers": len(workers), "seconds": seconds, "per_1000_s": seconds * 1000 / max(sampled, 1),
            "handled": handled, "mails": mails, "late_start_s": max(w["began"] for w in workers.values()) - at}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_scheduled(odoo, book, servers=1, timeout=1800):
    """The daily run as Odoo's scheduler runs it, for every customer of the book due today: ``servers`` Odoo
    servers on the one database (as that many machines would run them), each with ``--workers=2`` and Odoo's
    default two cron threads (two cron processes), the run given two workers (scheduled actions) per server,
    triggered at once, on a copy of the book whose policies may contact customers at any hour. Timed from the
    trigger until every customer due has its scheduler entry of the day (polled every half second), which
    includes each cron process loading Odoo's registry, as a server does."""
    copy = f"{book}_scheduled"
    createdb(copy, book)
    running = []
    try:
        ready = odoo.shell(copy, f"bench_odoo.prepare_scheduled(env, workers={2 * servers})")["scheduled_ready"]
        with tempfile.TemporaryDirectory(prefix="collections_bench_server_") as tmp:
            for number in range(servers):
                logfile = Path(tmp) / f"odoo{number}.log"
                cmd = odoo_bin(odoo.odoo_src, odoo.addons_path, "-d", copy, f"--db-filter=^{copy}$", "--workers=2",
                               "--max-cron-threads=2", "--http-interface=127.0.0.1", f"--http-port={_free_port()}",
                               f"--gevent-port={_free_port()}", "--log-level=info", f"--logfile={logfile}")
                running.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                start_new_session=True))
                _wait_for(logfile, "HTTP service (werkzeug) running", running[-1], 120)
                # Odoo's longpolling process receives the bus notifications of the messages posted; when it
                # cannot start, the server starts it again and again, which took a CPU (seen with zope.interface 8
                # beside setuptools < 70, whose pkg_resources does not find it: gevent's plugins fail to load).
                _wait_for(logfile, "Evented Service (longpolling) running", running[-1], 60,
                          hint="start `odoo-bin gevent` by hand to see why; here `pip install 'zope.interface<7'` "
                               "mended it (8.7 was installed)")
            time.sleep(5)  # the cron processes are forked after the HTTP service: let them listen
            ids = ",".join(str(cron_id) for cron_id in ready["crons"])
            due_now = f"UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' WHERE id IN ({ids})"
            subprocess.run(["psql", "-qAtc", due_now, copy], check=True)
            started = time.time()
            subprocess.run(["psql", "-qAtc", f"SELECT pg_notify('cron_trigger', '{copy}')", "postgres"],
                           check=True, capture_output=True)
            timeline = _wait_handled(copy, ready, running, started, timeout)
            seconds = time.time() - started
        for server in running:
            os.killpg(server.pid, signal.SIGTERM)
        for server in running:
            server.wait(60)
        running = []
        done = odoo.shell(copy, f"bench_odoo.measure_scheduled_done(env, {ready['today']!r})")["scheduled_done"]
    finally:
        for server in running:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        dropdb(copy)
    if done["handled"] < ready["due"] or done["mails"] < ready["due"]:
        sys.exit(f"the scheduled run handled {done['handled']} customers and queued {done['mails']} emails for "
                 f"{ready['due']} due")
    return {"customers": ready["due"], "seconds": seconds, "per_1000_s": seconds * 1000 / max(ready["due"], 1),
            "servers": servers, "workers": len(ready["crons"]), "timeline": timeline, **done}


def _wait_handled(db, ready, servers, started, timeout):
    """Until every customer due has a scheduler entry of the day; [(seconds, customers handled)] every 10 s."""
    query = ("SELECT count(DISTINCT partner_id) FROM collections_action WHERE origin = 'scheduler'"
             f" AND action_date = '{ready['today']}'")
    timeline, last = [], 0.0
    while time.time() < started + timeout:
        for server in servers:
            if server.poll() is not None:
                sys.exit(f"an Odoo server stopped (exit {server.returncode})")
        handled = int(subprocess.run(["psql", "-Atc", query, db], capture_output=True, text=True,
                                     check=True).stdout.strip())
        now = time.time() - started
        if handled >= ready["due"]:
            timeline.append((round(now, 1), handled))
            return timeline
        if now - last >= 10:
            timeline.append((round(now, 1), handled))
            log(f"scheduled run: {handled:,} of {ready['due']:,} customers after {now:.0f} s")
            last = now
        time.sleep(0.5)
    sys.exit(f"the scheduled run had not handled the {ready['due']:,} customers due after {timeout} s: {timeline}")


def _wait_for(logfile, text, server, timeout, hint=""):
    """Until the server's log holds a line with ``text``; fails if the server stops or time runs out."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            sys.exit(f"the Odoo server stopped (exit {server.returncode})")
        if logfile.exists() and text in logfile.read_text(errors="replace"):
            return
        time.sleep(0.2)
    sys.exit(f"{text!r} did not appear in the Odoo server's log in {timeout} s" + (f": {hint}" if hint else ""))


def _cpu_per_1000(sample):
    """CPU seconds per 1,000 customers of a sample: its Odoo process + its database backend (when measured)."""
    if sample.get("cpu_s") is None:
        return "-"
    scale = 1000 / max(sample["customers"], 1)
    if sample.get("db_cpu_s") is None:
        return f"{sample['cpu_s'] * scale:.0f}"
    return f"{(sample['cpu_s'] + sample['db_cpu_s']) * scale:.0f} ({sample['cpu_s'] * scale:.0f} + " \
           f"{sample['db_cpu_s'] * scale:.0f})"


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
        cpu = model
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        mem = f", {kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, StopIteration):
        pass
    pg = subprocess.run(["psql", "-Atc", "SHOW server_version", "postgres"], capture_output=True, text=True,
                        check=False).stdout.strip()
    return f"{os.cpu_count()} CPUs ({cpu}){mem}, PostgreSQL {pg}, Python {platform.python_version()}"


def table(results, oca_note):
    rows = [
        "| | " + " | ".join(f"{r['customers']:,} / {r['invoices']:,}" for r in results) + " |",
        "| --- | " + " | ".join("---" for _ in results) + " |",
    ]

    def row(label, fn):
        rows.append(f"| {label} | " + " | ".join(fn(r) for r in results) + " |")

    row("book built (SQL), s", lambda r: f"{r['generate']['seconds']:.0f}")
    row("paid in the two years before: invoices / payments", lambda r: "{:,} / {:,}".format(
        r["generate"].get("paid_invoices", 0), r["generate"].get("payments", 0)))
    row("Odoo's ledger agrees", lambda r: "yes" if not r["check"]["problems"] else "; ".join(r["check"]["problems"]))
    row("open receivable lines grouped (raw SQL), s", lambda r: f"{r['decision']['raw_sql_s']:.2f}")
    row("decision phase of the run, s", lambda r: f"{r['decision']['decision_s']:.2f}")
    row("decision / raw SQL", lambda r: f"{r['decision']['ratio']:.1f}x")
    row("decision phase queries", lambda r: str(r["decision"]["queries"]))
    row("customers due today", lambda r: f"{r['decision']['due']:,}")
    row("credit check, 1 invoice: ms / queries", lambda r: "{:.1f} / {}".format(
        r["exposure"]["single_partner_id"]["seconds"] * 1000, r["exposure"]["single_partner_id"]["queries"]))
    row("credit check, 500 invoices: ms / queries", lambda r: "{:.1f} / {}".format(
        r["exposure"]["big_partner_id"]["seconds"] * 1000, r["exposure"]["big_partner_id"]["queries"]))
    row("run preview for tomorrow: s / customers", lambda r: "{:.1f} / {:,}".format(
        r["foresight"]["preview_1"]["seconds"], r["foresight"]["preview_1"]["customers"]))
    row("run preview in 14 days: s / customers", lambda r: "{:.1f} / {:,}".format(
        r["foresight"]["preview_14"]["seconds"], r["foresight"]["preview_14"]["customers"]))
    row("preview for tomorrow / decision phase", lambda r: "{:.1f}x".format(
        r["foresight"]["preview_1"]["seconds"] / r["decision"]["decision_s"]))
    row("12 months replayed: read s / replay s / items", lambda r: "{:.1f} / {:.1f} / {:,}".format(
        r["foresight"]["replay"]["read_s"], r["foresight"]["replay"]["replay_s"], r["foresight"]["replay"]["items"]))
    row("cash forecast rebuilt, every open item: s / items / x decision phase",
        lambda r: "{:.1f} / {:,} / {:.1f}x".format(r["forecast"]["seconds"], r["forecast"]["items"],
                                                   r["forecast"]["seconds"] / r["decision"]["decision_s"]))
    row("cash forecast process memory: before / peak, MB", lambda r: "{:.0f} / {:.0f}".format(
        r["forecast"]["rss_before_mb"], r["forecast"]["rss_peak_mb"]))
    row("forecast's 12-month backtest (its monthly job): s / items / peak memory, MB",
        lambda r: "{:.0f} / {:,} / {:.0f}".format(r["forecast"]["backtest"]["seconds"],
                                                  r["forecast"]["backtest"]["items"], r["forecast"]["rss_backtest_mb"])
        if "backtest" in r["forecast"] else "-")
    row("whole run per 1,000 customers, s", lambda r: f"{r['run']['per_1000_s']:.0f}")
    row("Odoo's mass-mail composer, same template and customers, per 1,000, s",
        lambda r: f"{r['composer']['per_1000_s']:.0f}")
    row("whole run / composer", lambda r: f"{r['run']['per_1000_s'] / r['composer']['per_1000_s']:.1f}x")
    row("CPU per 1,000 customers, s: whole run / composer (Odoo process + its PostgreSQL backend)",
        lambda r: " / ".join(_cpu_per_1000(r[name]) for name in ("run", "composer")))
    row("whole run, customers a second", lambda r: f"{1000 / r['run']['per_1000_s']:.1f}")
    row("whole run queries per customer", lambda r: f"{r['run']['queries_per_customer']:.1f}")
    row("whole run with two workers at once: per 1,000 customers, s / customers a second / each handled",
        lambda r: "{:.0f} / {:.1f} / {}".format(r["run_workers"]["per_1000_s"], 1000 / r["run_workers"]["per_1000_s"],
                                                " + ".join(str(n) for n in r["run_workers"]["handled"])))
    row("the daily run as Odoo's scheduler runs it (--workers=2, two cron threads), every customer due: "
        "customers / s / customers a second",
        lambda r: "{:,} / {:.0f} / {:.1f}".format(r["run_scheduled"]["customers"], r["run_scheduled"]["seconds"],
                                                   r["run_scheduled"]["customers"] / r["run_scheduled"]["seconds"]))
    row("the same, two Odoo servers on the one database (two cron threads each, the run's four workers): "
        "customers / s / customers a second / x one server",
        lambda r: "{:,} / {:.0f} / {:.1f} / {:.2f}x".format(
            r["run_scheduled_2"]["customers"], r["run_scheduled_2"]["seconds"],
            r["run_scheduled_2"]["customers"] / r["run_scheduled_2"]["seconds"],
            r["run_scheduled"]["seconds"] / r["run_scheduled_2"]["seconds"]) if "run_scheduled_2" in r else "-")
    row("with the invoices' PDFs (half stored before): customers / invoices / per 1,000 customers, s",
        lambda r: "{:,} / {:,} / {:.0f}".format(
            r["run_pdf"]["customers"], r["run_pdf"]["invoices"], r["run_pdf"]["per_1000_s"]))
    row("storing the other half's PDFs beforehand, s", lambda r: f"{r['run_pdf']['stored_before_s']:.0f}")
    row("emails queued / tasks / log entries", lambda r: "{} / {} / {}".format(
        r["run"]["mails"], r["run"]["activities"], r["run"]["log_entries"]))
    row("run process memory: before / peak, MB", lambda r: "{:.0f} / {:.0f}".format(
        r["run"]["rss_before_mb"], r["run"]["rss_peak_mb"]))
    row("decision process memory: before / peak, MB", lambda r: "{:.0f} / {:.0f}".format(
        r["decision"]["rss_baseline_mb"], r["decision"]["rss_mb"]))
    if all("oca" in r for r in results):
        row("OCA credit control run, s", lambda r: f"{r['oca']['seconds']:.1f}")
        row("OCA credit lines created", lambda r: f"{r['oca']['credit_lines']:,}")
        row("OCA run / our decision phase", lambda r: f"{r['oca']['seconds'] / r['decision']['decision_s']:.0f}x")
        row("OCA sending by email: customers / emails queued / per 1,000 customers, s",
            lambda r: "{:,} / {:,} / {:.0f}".format(
                r["oca_send"]["customers"], r["oca_send"]["mails"], r["oca_send"]["per_1000_s"]))
        row("OCA sending queries per customer", lambda r: f"{r['oca_send']['queries_per_customer']:.1f}")
        row("our whole run / OCA sending, per customer", lambda r: "{:.1f}x".format(
            r["run"]["per_1000_s"] / r["oca_send"]["per_1000_s"]))
    else:
        rows.append(f"\nOCA account_credit_control not measured: {oca_note}")
    return "\n".join(rows)


def write_results(out, table, results):
    """``table`` at the top of ``out``, the raw ``results`` at its end; the sections between them (from the first
    "## " heading: comparisons and notes people wrote) kept."""
    kept = ""
    if out.exists():
        old = out.read_text(encoding="utf-8")
        start, end = old.find("\n## "), old.find(RAW)
        if start != -1:
            kept = old[start + 1:end if end > start else len(old)]
    out.write_text(f"{table}\n\n{kept}{RAW}\n\n```json\n{json.dumps(results, indent=1)}\n```\n", encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", action="append", default=[], help="customers:invoices (repeatable)")
    parser.add_argument("--no-oca", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the book's database (to profile it)")
    parser.add_argument("--run-customers", type=int, default=1000, help="due customers of the whole-run sample")
    parser.add_argument("--pdf-customers", type=int, default=None,
                        help=f"due customers of the sample with invoice PDFs (default: {PDF_CUSTOMERS})")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    odoo_src, addons_path = os.environ.get("ODOO_SRC"), os.environ.get("ADDONS_PATH")
    if not odoo_src or not addons_path:
        sys.exit("ODOO_SRC / ADDONS_PATH are not set: run through 'make bench'.")
    sizes = [tuple(int(x) for x in size.split(":")) for size in args.size] or SIZES
    odoo = Odoo(odoo_src, addons_path)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="collections_bench_") as workdir:
        oca = (None, "skipped (--no-oca)") if args.no_oca else oca_addons(workdir)
        base_database(odoo)
        results = [bench_size(odoo, customers, invoices, workdir, oca, args.run_customers, args.keep,
                              args.pdf_customers) for customers, invoices in sizes]
    text = table(results, oca[1])
    header = (f"# Benchmark results\n\n`make bench` on {time.strftime('%Y-%m-%d')}: {machine()}.\n"
              f"OCA: {oca[1] if oca[0] else 'not measured'}. Total time {time.time() - started:.0f} s.\n\n")
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    write_results(out, header + text, results)
    print()
    print(header + text)
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
