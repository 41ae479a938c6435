"""What the tools share: the repository's root, the addons, the Python that runs Odoo, the odoo-bin
command line, the closing tally line ("<name>: N passed, N failed") that run_tests.py reads, and autovacuum
switched off on a throwaway test database.

Standard library only: every tool imports it, some before Odoo or docutils are importable."""
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ["collections_followup", "collections_followup_sale", "collections_followup_snailmail"]
# The Python that imports Odoo (the Makefile exports ODOO_PYTHON; a tool run by hand uses its own).
PYTHON = os.environ.get("ODOO_PYTHON") or sys.executable
# Odoo's data folder (filestore, sessions) for every database the tools make: in the clone, not in the user's
# home (tools/setup_env.py links there the filestores of databases made before it moved).
DATA_DIR = ROOT / ".local" / "odoo-data"


def addons_path(odoo_src, *more):
    """Odoo's own addons, then ``more`` (default: this repository)."""
    return ",".join([f"{odoo_src}/addons", f"{odoo_src}/odoo/addons", *(more or [str(ROOT)])])


def odoo_bin(odoo_src, path, *args, command=None, python=PYTHON):
    """The odoo-bin command line: ``command`` (shell, db, ...) or the server, with ``path`` as addons path."""
    if command == "i18n":
        # i18n takes no server options: the addons path goes before it, as odoo-bin's one shared option.
        return [python, f"{odoo_src}/odoo-bin", f"--addons-path={path}", command, *args]
    return [python, f"{odoo_src}/odoo-bin", *([command] if command else []), f"--addons-path={path}",
            f"--data-dir={DATA_DIR}", *args]


def tally_line(name, passed, failed):
    """The closing line of a checking tool, as run_tests.py finds it."""
    prefix = f"{name}: " if name else ""
    return f"{prefix}{passed} passed, {failed} failed"


# Autovacuum on a test database: the tests never commit, so once a test class ends its rows are dead, and when
# autovacuum removes them while the next class already holds the tables it cannot give the pages back: it
# records "0 rows in N pages", the planner then takes every table the next classes fill as empty and joins them
# by nested loops (seen in session 21: in 36 of 43 samples of a `make test` run, account_move and
# account_move_line were recorded so; a query of Odoo's ran minutes in the soak). A throwaway database needs no
# autovacuum: it is switched off on its tables, each in its own short transaction that gives up at once on a
# table somebody holds (the next pass takes it).
_AUTOVACUUM_OFF = """
SELECT format('ALTER TABLE %I SET (autovacuum_enabled = false);', c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r'
   AND NOT coalesce(c.reloptions @> ARRAY['autovacuum_enabled=false'], false)
"""


def autovacuum_off(db):
    """Switch autovacuum off on the tables of ``db`` that still have it; returns how many were left with it."""
    found = subprocess.run(["psql", "-X", "-d", db, "-Atc", _AUTOVACUUM_OFF], capture_output=True, text=True,
                           check=False)
    statements = found.stdout.split("\n") if found.returncode == 0 else []
    statements = [line for line in statements if line]
    if statements:
        script = "SET lock_timeout = '100ms';\n" + "\n".join(statements) + "\n"
        subprocess.run(["psql", "-X", "-q", "-d", db], input=script, capture_output=True, text=True, check=False)
    return len(statements)


class AutovacuumOff(threading.Thread):
    """While a suite installs and tests on ``db``, every few seconds switch autovacuum off on the tables it made
    (`with AutovacuumOff(db): ...`)."""

    def __init__(self, db, every=5):
        super().__init__(daemon=True)
        self.db, self.every, self.done = db, every, threading.Event()

    def run(self):
        while not self.done.wait(self.every):
            autovacuum_off(self.db)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()
