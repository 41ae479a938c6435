"""What the tools share: the repository's root, the addons, the Python that runs Odoo, the odoo-bin
command line and the closing tally line ("<name>: N passed, N failed") that run_tests.py reads.

Standard library only: every tool imports it, some before Odoo or docutils are importable."""
import os
import sys
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
