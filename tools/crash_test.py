"""Crash safety and concurrency of the daily run, with real processes and a real SMTP server.

Run by ``make test`` (tools/run_tests.py) on the test database once the Odoo
suite is done; it can also be run by hand on a database where the addon is
installed (it adds its own company data):

    python tools/crash_test.py --db DB --odoo-src /path/to/odoo --addons-path ...

What it does (README.md, "Crash safety"):

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
   the same moment; each customer is handled once, neither process fails.

Prints one line per check and ``N passed, N failed``; exits 1 on any failure.
"""
import argparse
import email
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict

from aiosmtpd.controller import Controller

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

if os.environ.get("CRASH_DIRECT"):
    # Two processes at once: the run itself (the scheduled action would refuse a second
    # simultaneous start of the same job), committing batch by batch.
    env["collections.run"]._cron_run_followups()
    env.cr.commit()
else:
    env.ref("collections_followup.ir_cron_collections_run").method_direct_trigger()
env.ref("mail.ir_cron_mail_scheduler_action").method_direct_trigger()
env.cr.commit()
print("RUN-COMPLETE")
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

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content)
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
        cmd = [sys.executable, os.path.join(self.args.odoo_src, "odoo-bin"), "shell", "-d", self.args.db,
               f"--addons-path={self.args.addons_path}", "--no-http", "--log-level=warn"]
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

        print("Concurrency: two processes run the follow-ups at the same moment")
        code, out = harness.run_shell(SETUP, CRASH_PREFIX="Twin", CRASH_COUNT=SECOND_WAVE)
        if code != 0 or "SETUP-DONE" not in out:
            print(out[-4000:])
            harness.check(False, "second setup")
            return harness
        procs = [harness.shell(RUN, {"CRASH_DIRECT": 1}) for _twin in range(2)]
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
    finally:
        controller.stop()
        print(f"crash/concurrency tests took {time.time() - started:.0f}s")
    return harness


if __name__ == "__main__":
    result = main()
    print(f"{result.passed} passed, {result.failed} failed")
    sys.exit(1 if result.failed else 0)
