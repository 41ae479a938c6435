"""Crash safety and concurrency of the daily run, with real processes and a real SMTP server.

Run by ``make test`` (tools/run_tests.py) on the test database once the Odoo
suite is done; it can also be run by hand on a database where the addon is
installed (it adds its own company data):

    python tools/crash_test.py --db DB --odoo-src /path/to/odoo --addons-path ...

What it does (collections_followup/README.rst, "Crash safety"):

1. Starts an SMTP server (aiosmtpd) on 127.0.0.1 and points Odoo's outgoing
   mail server at it; sets up customers with overdue invoices whose follow-up
   level sends an email, creates a call task, charges a fixed late fee and
   puts the customer on credit hold; batches of 5 customers per commit.
2. Runs the daily run's scheduled action and then Odoo's mail queue in a
   separate ``odoo-bin shell`` process that SIGKILLs itself at a point drawn
   from a seeded random generator: before or after the N-th database commit,
   or just after the SMTP server accepted the N-th email (before Odoo records
   it as sent, the one window no database can close). Twelve such runs, then
   one that is left to finish.
3. Checks that every customer got exactly one reminder, one call task, one
   fee, one hold entry, and that the SMTP server received exactly one message
   (one Message-ID) per customer; a message delivered twice under the same
   Message-ID is reported (mail clients merge them) and may only happen at an
   SMTP kill point.
4. Concurrency: new customers fall due, two processes run the follow-ups at
   the same moment, as the daily run and its second worker (one from the first
   customer, one from halfway); each customer is handled once, neither fails.
5. Two servers: new customers fall due, the run is given four workers
   (scheduled actions) and two Odoo server processes with two cron threads
   each, on the one database (as two machines would run them), run them and
   Odoo's mail queue as Odoo's scheduler does; each customer is handled once
   and receives one message.
6. Data safety: the addons are uninstalled; every invoice, journal item,
   total, payment and reconciliation is as before (fee invoices included).

Prints one line per check and ``N passed, N failed``; exits 1 on any failure.
"""
import argparse
import email
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

from aiosmtpd.controller import Controller
from common import odoo_bin, tally_line

CUSTOMERS = 24
SECOND_WAVE = 16
KILLS = 12

SETUP = r"""
import os
from datetime import timedelta
from odoo import fields
prefix = os.environ["CRASH_PREFIX"]
count = int(os.environ["CRASH_COUNT"])
company = env.company
company.email = company.email or "ar@crash-test.example.com"
if not env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1):
    env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
if os.environ.get("CRASH_CONFIGURE"):
    env["ir.mail_server"].search([]).active = False
    env["ir.mail_server"].create({
        "name": "crash test", "smtp_host": "127.0.0.1", "smtp_port": int(os.environ["CRASH_SMTP_PORT"]),
        "smtp_encryption": "none",
    })
    env["ir.config_parameter"].set_param("collections_followup.run_batch_size", "5")
    env["ir.config_parameter"].set_param("mail.session.batch.size", "4")
    policy = env["collections.policy"]._get_default_policy(company)
    product = env["product.product"].create({"name": "Late payment fee", "type": "service"})
    policy.write({"contact_rules": False, "fee_product_id": product.id})
    first = policy.level_ids.filtered(lambda level: level.delay == 7)
    first.write({
        "attach_invoices": False, "create_activity": True,
        "activity_type_id": env.ref("mail.mail_activity_data_call").id,
        "credit_hold": True, "fee_type": "fixed", "fee_fixed": 15.0,
    })
journal = env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
today = fields.Date.context_today(env.user)
for index in range(count):
    partner = env["res.partner"].create({
        "name": f"{prefix} Customer {index:03d}", "email": f"{prefix.lower()}{index:03d}@crash.example.com",
        "is_company": True,
    })
    for number in range(1 + index % 2):
        due = today - timedelta(days=10 + number)
        move = env["account.move"].create({
            "move_type": "out_invoice", "partner_id": partner.id, "journal_id": journal.id,
            "invoice_date": due - timedelta(days=30), "invoice_date_due": due,
            "invoice_line_ids": [(0, 0, {"name": "Service", "quantity": 1, "price_unit": 100.0 + index})],
        })
        move.action_post()
        if index % 3 == 0 and number == 0:
            # A partial payment: reconciliations the uninstall check must find intact.
            env["account.payment.register"].with_context(active_model="account.move", active_ids=move.ids).create({
                "amount": 30.0, "payment_date": today, "payment_difference_handling": "open",
            })._create_payments()
env.cr.commit()
print("SETUP-DONE")
"""

RUN = r"""
import os, signal, smtplib
from odoo.sql_db import Cursor

point = os.environ.get("CRASH_POINT", "")
seen = {"commit": 0, "smtp": 0}

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point:
    kind, number = point.split(":")
    number = int(number)
    original_commit = Cursor.commit
    def commit(self):
        seen["commit"] += 1
        if kind == "before-commit" and seen["commit"] == number:
            die()
        result = original_commit(self)
        if kind == "after-commit" and seen["commit"] == number:
            die()
        return result
    Cursor.commit = commit
    original_sendmail = smtplib.SMTP.sendmail
    def sendmail(self, *args, **kwargs):
        result = original_sendmail(self, *args, **kwargs)
        seen["smtp"] += 1
        if kind == "after-smtp" and seen["smtp"] == number:
            die()  # the server has the message; Odoo has not recorded it as sent
        return result
    smtplib.SMTP.sendmail = sendmail

if os.environ.get("CRASH_NEXT_DAY"):
    # The next daily run, a day later.
    from datetime import timedelta
    from odoo import fields
    company = env.company
    env["collections.run"].with_company(company)._run_company(company, fields.Date.today() + timedelta(days=1))
    env.cr.commit()
elif os.environ.get("CRASH_DIRECT"):
    # Two processes at once, as the daily run and its second worker (two scheduled actions):
    # one from the first customer, one from halfway, committing batch by batch.
    env["collections.run"]._cron_run_followups(start=float(os.environ.get("CRASH_START", "0")))
    env.cr.commit()
else:
    env.ref("collections_followup.ir_cron_collections_run").method_direct_trigger()
env.ref("mail.ir_cron_mail_scheduler_action").method_direct_trigger()
env.cr.commit()
print("RUN-COMPLETE")
"""

SERVERS_READY = r"""
import os
from odoo import fields
Run = env["collections.run"]
Run._set_workers(int(os.environ["CRASH_WORKERS"]))
first, others = Run._worker_crons()
workers = (first | others).filtered("active")
mail = env.ref("mail.ir_cron_mail_scheduler_action")
# The servers run the run's workers and Odoo's mail queue; Odoo's other jobs are switched off (they have nothing
# to do here and would only take the cron threads). Due now: the servers' cron threads take them when notified.
env["ir.cron"].search([("id", "not in", (workers | mail).ids)]).active = False
(workers | mail).write({"active": True, "nextcall": fields.Datetime.now()})
env.cr.commit()
print("WORKERS=" + ",".join(str(cron.id) for cron in workers) + " MAIL=" + str(mail.id))
"""

REPORT = r"""
import json, os
prefix = os.environ["CRASH_PREFIX"]
partners = env["res.partner"].search([("name", "=like", prefix + " Customer %")])
Action = env["collections.action"]
result = {}
for partner in partners:
    actions = Action.search([("partner_id", "=", partner.id)])
    channels = {}
    for action in actions:
        key = f"{action.channel}/{action.state}"
        channels[key] = channels.get(key, 0) + 1
    invoices = env["account.move"].search([("partner_id", "=", partner.id), ("move_type", "=", "out_invoice"),
                                           ("collections_fee_source", "=", False)])
    result[partner.email] = {
        "actions": channels,
        "calls": len(partner.activity_ids.filtered(lambda a: a.activity_type_id.category == "phonecall")),
        "fees": len(env["collections.fee"].search([("partner_id", "=", partner.id)])),
        "fee_invoices": len(env["account.move"].search([("partner_id", "=", partner.id),
                                                        ("collections_fee_source", "=", True)])),
        "reminders": sorted(invoices.mapped("collections_reminder_count")),
        "on_hold": bool(partner.collections_credit_hold),
        "unsent": len(env["mail.mail"].search([("recipient_ids", "in", partner.ids),
                                               ("state", "in", ("outgoing", "exception"))])),
    }
print("REPORT=" + json.dumps(result))
"""


class Mailbox:
    """What the SMTP server received, per recipient."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = defaultdict(list)  # recipient -> [Message-ID, ...]
        self.refuse = ()  # recipient prefixes refused with a permanent error

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content)
        if any(rcpt.lower().startswith(self.refuse) for rcpt in envelope.rcpt_tos) and self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.deliveries[recipient.lower()].append(message.get("Message-ID"))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Harness:
    def __init__(self, args):
        self.args = args
        self.passed = 0
        self.failed = 0

    def shell(self, script, env_vars, timeout=600):
        cmd = odoo_bin(self.args.odoo_src, self.args.addons_path, "-d", self.args.db, "--no-http",
                       "--log-level=warn", command="shell", python=sys.executable)
        env = dict(os.environ, **{key: str(value) for key, value in env_vars.items()})
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env), script, timeout

    def run_shell(self, script, **env_vars):
        proc, script, timeout = self.shell(script, env_vars)
        out, _err = proc.communicate(script, timeout=timeout)
        return proc.returncode, out

    def logged(self):
        """Reminders logged so far and emails still in Odoo's queue (psql, no Odoo process)."""
        query = ("SELECT (SELECT count(*) FROM collections_action WHERE channel = 'email' AND state = 'done'), "
                 "(SELECT count(*) FROM mail_mail WHERE state IN ('outgoing', 'exception'))")
        out = subprocess.run(["psql", "-d", self.args.db, "-Atc", query], capture_output=True, text=True,
                             check=False).stdout.strip()
        return out.replace("|", " / ") or "?"

    def check(self, ok, label, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok    {label}")
        else:
            self.failed += 1
            print(f"  FAIL  {label} {detail}")

    def report(self, prefix):
        code, out = self.run_shell(REPORT, CRASH_PREFIX=prefix)
        lines = [line for line in out.splitlines() if line.startswith("REPORT=")]
        if code != 0 or not lines:
            raise RuntimeError(f"report failed ({code}):\n{out[-3000:]}")
        return json.loads(lines[-1][len("REPORT="):])

    def verify(self, prefix, mailbox, count, smtp_kills):
        state = self.report(prefix)
        self.check(len(state) == count, f"{prefix}: {count} customers set up", f"found {len(state)}")
        problems = Counter()
        for address, row in sorted(state.items()):
            actions = row["actions"]
            expected = {"email/done": 1, "call/done": 1, "fee/done": 1, "hold/done": 1}
            for key, number in expected.items():
                if actions.get(key, 0) != number:
                    problems[f"{key} x{actions.get(key, 0)}"] += 1
            unexpected = set(actions) - set(expected)
            if unexpected:
                problems[f"unexpected log entries {sorted(unexpected)}"] += 1
            if row["calls"] != 1:
                problems[f"call tasks x{row['calls']}"] += 1
            if row["fees"] != len(row["reminders"]) or row["fee_invoices"] != 1:
                problems[f"fees {row['fees']} ({len(row['reminders'])} invoices), "
                         f"fee invoices {row['fee_invoices']}"] += 1
            if any(count != 1 for count in row["reminders"]):
                problems[f"reminder counts {row['reminders']}"] += 1
            if not row["on_hold"]:
                problems["not on hold"] += 1
            if row["unsent"]:
                problems["email left unsent in the queue"] += 1
            received = mailbox.deliveries.get(address, [])
            if len(set(received)) != 1:
                problems[f"{len(set(received))} distinct messages received"] += 1
        self.check(not problems, f"{prefix}: each customer reminded, called, charged and held exactly once; "
                   f"one message each at the SMTP server", dict(problems))
        deliveries = sum(len(mailbox.deliveries.get(address, [])) for address in state)
        duplicates = deliveries - sum(len(set(mailbox.deliveries.get(address, []))) for address in state)
        self.check(duplicates <= smtp_kills,
                   f"{prefix}: {deliveries} SMTP deliveries, {duplicates} repeated Message-ID "
                   f"(at most one per kill between SMTP and commit: {smtp_kills})")


# Accounting data as PostgreSQL sees it: what uninstalling the addon must leave untouched.
LEDGER_QUERY = """
SELECT (SELECT count(*) FROM account_move),
       (SELECT count(*) FROM account_move WHERE state = 'posted'),
       (SELECT count(*) FROM account_move_line),
       (SELECT COALESCE(sum(debit), 0) || '/' || COALESCE(sum(credit), 0) FROM account_move_line),
       (SELECT COALESCE(sum(amount_residual), 0) FROM account_move_line),
       (SELECT count(*) FROM account_payment),
       (SELECT count(*) FROM account_partial_reconcile)
"""

UNINSTALL = r"""
modules = env["ir.module.module"].search([("name", "in", (
    "collections_followup_snailmail", "collections_followup_sale", "collections_followup",
))])
modules.button_immediate_uninstall()
env.cr.commit()
print("UNINSTALLED", env["ir.module.module"].search([("name", "=", "collections_followup")]).state)
# The index the addon made on Odoo's invoices (its uninstall hook drops it).
env.cr.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'collections_account_move_payment_reference'")
print("INDEXES LEFT", env.cr.fetchone()[0])
"""


def two_servers(harness, mailbox, count=16, workers=4, timeout=300):
    """Two Odoo server processes (threaded, two cron threads each) on the one database run the daily run's
    ``workers`` scheduled actions and Odoo's mail queue, as Odoo's scheduler runs them on two machines; each new
    customer is handled once and receives one message."""
    print(f"Two servers: {workers} workers of the run taken by two Odoo servers with two cron threads each")
    code, out = harness.run_shell(SETUP, CRASH_PREFIX="Pair", CRASH_COUNT=count)
    if code != 0 or "SETUP-DONE" not in out:
        harness.check(False, "two servers: setup", out[-3000:])
        return
    code, out = harness.run_shell(SERVERS_READY, CRASH_WORKERS=workers)
    found = re.search(r"WORKERS=([\d,]+) MAIL=(\d+)", out)
    if code != 0 or not found:
        harness.check(False, "two servers: workers set up", out[-3000:])
        return
    worker_ids, mail_id = found.group(1), found.group(2)
    db = harness.args.db
    handled = ("SELECT count(DISTINCT action.partner_id) FROM collections_action action "
               "JOIN res_partner partner ON partner.id = action.partner_id "
               "WHERE partner.name LIKE 'Pair Customer %' AND action.origin = 'scheduler' AND action.channel = 'email'")
    addresses = [f"pair{index:03d}@crash.example.com" for index in range(count)]
    servers, logs = [], []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="collections_crash_servers_") as tmp:
        try:
            for number in (1, 2):
                logfile = Path(tmp) / f"server{number}.log"
                port = free_port()
                cmd = odoo_bin(harness.args.odoo_src, harness.args.addons_path, "-d", db, f"--db-filter=^{db}$",
                               "--max-cron-threads=2", "--http-interface=127.0.0.1", f"--http-port={port}",
                               "--log-level=info", f"--logfile={logfile}", python=sys.executable)
                servers.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                start_new_session=True))
                logs.append((logfile, port))
            for (logfile, port), server in zip(logs, servers, strict=True):
                wait_until(lambda logfile=logfile: logfile.exists() and "HTTP service (werkzeug) running"
                           in logfile.read_text(errors="replace"), server, 120)
                # The database's registry loaded in each server before the trigger (a page of it), so that both
                # servers' cron threads are ready to take the workers when notified.
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/web/login?db={db}", timeout=120):
                    pass
            notify = f"SELECT pg_notify('cron_trigger', '{db}')"
            psql("postgres", notify)
            wait_until(lambda: int(psql(db, handled) or 0) >= count, servers, timeout)
            # The workers queued the emails; the mail queue is due again now that they are all there.
            psql(db, f"UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' WHERE id = {mail_id}")
            psql("postgres", notify)
            wait_until(lambda: all(mailbox.deliveries.get(address) for address in addresses), servers, timeout)
            time.sleep(2)  # anything sent twice would arrive now
        except OSError as error:  # TimeoutError from wait_until, or the page that loads a server's registry
            harness.check(False, "two servers: the run and the mail queue done in time", str(error))
        finally:
            for server in servers:
                if server.poll() is None:
                    os.killpg(server.pid, signal.SIGTERM)
            for server in servers:
                try:
                    server.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
        jobs = []
        for number, (logfile, _port) in enumerate(logs, 1):
            text = logfile.read_text(errors="replace") if logfile.exists() else ""
            errors = [line for line in text.splitlines() if " ERROR " in line or "Traceback" in line]
            harness.check(not errors, f"two servers: server {number} logged no error", "\n".join(errors[:5]))
            # Odoo's cron logs "Job 'name' (id) starting" for each job a thread takes.
            ran = [cron_id for cron_id in re.findall(r"Job .* \((\d+)\) starting", text)
                   if cron_id in worker_ids.split(",")]
            jobs.append(len(ran))
    print(f"    {time.time() - started:.0f} s from the servers' start; the run's worker jobs taken by server 1 / 2: "
          f"{jobs[0]} / {jobs[1]} (Odoo's cron threads take whichever job is due first)")
    harness.verify("Pair", mailbox, count, 0)


def psql(db, query):
    return subprocess.run(["psql", "-d", db, "-qAtc", query], capture_output=True, text=True,
                          check=True).stdout.strip()


def wait_until(ready, servers, timeout):
    """Until ``ready()``; TimeoutError after ``timeout`` seconds or when a server stops."""
    servers = servers if isinstance(servers, list) else [servers]
    deadline = time.time() + timeout
    while time.time() < deadline:
        stopped = [server.returncode for server in servers if server.poll() is not None]
        if stopped:
            raise TimeoutError(f"an Odoo server stopped (exit {stopped[0]})")
        if ready():
            return
        time.sleep(0.5)
    raise TimeoutError(f"not done after {timeout} s")


def undelivered(harness, mailbox):
    """The mail server refuses the reminders: log entries failed, levels given back, sent again next day."""
    print("Mail failure: the SMTP server refuses 4 customers' reminders, then accepts them the next day")
    code, out = harness.run_shell(SETUP, CRASH_PREFIX="Bounce", CRASH_COUNT=4)
    if code != 0 or "SETUP-DONE" not in out:
        harness.check(False, "bounce setup", out[-3000:])
        return
    mailbox.refuse = ("bounce",)
    code, out = harness.run_shell(RUN)
    harness.check("RUN-COMPLETE" in out, "run with refused emails finishes", out[-3000:])
    state = harness.report("Bounce")
    problems = Counter()
    for address, row in state.items():
        if row["actions"].get("email/failed") != 1 or row["actions"].get("email/done"):
            problems[f"email log {row['actions']}"] += 1
        if any(row["reminders"]):
            problems[f"reminder counts {row['reminders']} (should be given back)"] += 1
        if row["unsent"] != 1:
            problems[f"{row['unsent']} emails in exception in the queue"] += 1
        if mailbox.deliveries.get(address):
            problems["received"] += 1
    harness.check(not problems and len(state) == 4, "refused: logged failed, not counted as sent, level given back, "
                  "email kept in the queue in exception", dict(problems))
    mailbox.refuse = ()
    code, out = harness.run_shell(RUN, CRASH_NEXT_DAY=1)
    harness.check("RUN-COMPLETE" in out, "next day's run finishes", out[-3000:])
    state = harness.report("Bounce")
    problems = Counter()
    for address, row in state.items():
        expected = {"email/failed": 1, "email/done": 1, "fee/done": 1, "hold/done": 1}
        for key, number in expected.items():
            if row["actions"].get(key, 0) != number:
                problems[f"{key} x{row['actions'].get(key, 0)}"] += 1
        if row["calls"] != 1:
            problems[f"call tasks x{row['calls']}"] += 1
        if any(count != 1 for count in row["reminders"]):
            problems[f"reminder counts {row['reminders']}"] += 1
        if len(set(mailbox.deliveries.get(address, []))) != 1:
            problems[f"{len(set(mailbox.deliveries.get(address, [])))} messages received"] += 1
    harness.check(not problems, "sent again the next day, once; one call task, one fee, one hold", dict(problems))


def uninstall(harness):
    """Uninstalling the addons leaves every invoice, payment and reconciliation as it was."""
    def ledger():
        return subprocess.run(["psql", "-d", harness.args.db, "-Atc", LEDGER_QUERY], capture_output=True,
                              text=True, check=True).stdout.strip()
    print("Data safety: uninstall the addons")
    before = ledger()
    code, out = harness.run_shell(UNINSTALL)
    harness.check(code == 0 and "UNINSTALLED uninstalled" in out, "the addons uninstall", out[-3000:])
    harness.check("INDEXES LEFT 0" in out, "the index on Odoo's invoices goes with the addon", out[-3000:])
    after = ledger()
    harness.check(before == after, f"invoices, lines, totals, payments, reconciliations unchanged ({after})",
                  f"before {before}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--odoo-src", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    harness = Harness(args)
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    started = time.time()
    try:
        code, out = harness.run_shell(SETUP, CRASH_PREFIX="Crash", CRASH_COUNT=CUSTOMERS, CRASH_CONFIGURE=1,
                                      CRASH_SMTP_PORT=port)
        if code != 0 or "SETUP-DONE" not in out:
            print(out[-4000:])
            harness.check(False, "setup")
            return harness
        rng = random.Random(args.seed)
        kinds = ["before-commit", "after-commit", "after-smtp"]
        print(f"Crash safety: {KILLS} runs killed with SIGKILL (seed {args.seed}), then one to the end")
        smtp_kills = 0
        for attempt in range(KILLS + 1):
            point = "" if attempt == KILLS else f"{rng.choice(kinds)}:{rng.randint(1, 6)}"
            code, out = harness.run_shell(RUN, CRASH_POINT=point)
            killed = code == -signal.SIGKILL
            smtp_kills += killed and point.startswith("after-smtp")
            received = sum(len(v) for v in mailbox.deliveries.values())
            outcome = "killed" if killed else ("finished" if "RUN-COMPLETE" in out else f"exit {code}")
            print(f"    run {attempt + 1:2d}  {point or 'no kill':17s} {outcome:9s} {received:3d} emails received, "
                  f"reminders logged / queued: {harness.logged()}")
            if not killed and "RUN-COMPLETE" not in out:
                print(out[-4000:])
                harness.check(False, f"run {attempt + 1} ended by itself without finishing")
        harness.verify("Crash", mailbox, CUSTOMERS, smtp_kills)

        print("Concurrency: two processes run the follow-ups at the same moment (first and second worker)")
        code, out = harness.run_shell(SETUP, CRASH_PREFIX="Twin", CRASH_COUNT=SECOND_WAVE)
        if code != 0 or "SETUP-DONE" not in out:
            print(out[-4000:])
            harness.check(False, "second setup")
            return harness
        procs = [harness.shell(RUN, {"CRASH_DIRECT": 1, "CRASH_START": start}) for start in ("0", "0.5")]
        outputs = []
        for proc, script, _timeout in procs:
            proc.stdin.write(script)
            proc.stdin.close()
        for proc, _script, timeout in procs:
            outputs.append((proc.wait(timeout=timeout), proc.stdout.read()))
        for number, (code, out) in enumerate(outputs, 1):
            errors = [line for line in out.splitlines() if " ERROR " in line or "Traceback" in line]
            harness.check(code == 0 and "RUN-COMPLETE" in out and not errors,
                          f"process {number} finished without error", "\n".join(errors[:5]) or out[-2000:])
        harness.verify("Twin", mailbox, SECOND_WAVE, 0)
        two_servers(harness, mailbox)
        undelivered(harness, mailbox)
        uninstall(harness)
    finally:
        controller.stop()
        print(f"crash/concurrency tests took {time.time() - started:.0f}s")
    return harness


if __name__ == "__main__":
    result = main()
    print(tally_line("", result.passed, result.failed))
    sys.exit(1 if result.failed else 0)
