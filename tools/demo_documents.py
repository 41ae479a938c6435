"""`make run`, once the demo database is served: render the demo's PDF steps (a payment plan's agreement, sent
when the plan is proposed or accepted) with the styles the server serves.

    python3 tools/demo_documents.py --db collections_demo --url http://127.0.0.1:8069

wkhtmltopdf loads a report's styles over HTTP: while `make run` creates the database no server runs (the PDFs
came out unstyled, wkhtmltopdf printing ConnectionRefusedError), so the demo leaves those steps pending
(collections_followup/demo/populate.py) and this does them once. Nothing to do (the usual case): one query."""
import argparse
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psycopg2
from common import PYTHON, ROOT, addons_path, odoo_bin

PENDING = "collections_followup.demo_documents_pending"
SNIPPET = (
    "from odoo.addons.collections_followup.demo.populate import populate_documents\n"
    "if populate_documents(env, {url!r}):\n"
    "    env.cr.commit()\n"
    "    print('DEMO-DOCUMENTS-DONE')\n"
)


def pending(db):
    with psycopg2.connect(dbname=db) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM ir_config_parameter WHERE key = %s", [PENDING])
        return bool(cursor.fetchone())


def wait_for(url, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/web/login", timeout=5):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(2)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--odoo-src", required=True)
    args = parser.parse_args()
    if not pending(args.db):
        return 0
    if not wait_for(args.url):
        print(f"demo documents: the server at {args.url} did not answer; they are made at the next make run.")
        return 1
    print("  Rendering the demo's payment plan agreements with the served styles...", flush=True)
    done = subprocess.run(
        odoo_bin(args.odoo_src, addons_path(args.odoo_src), "-d", args.db, "--no-http", "--log-level=warn",
                 command="shell", python=PYTHON),
        input=SNIPPET.format(url=args.url), capture_output=True, text=True, cwd=ROOT, check=False)
    if "DEMO-DOCUMENTS-DONE" not in done.stdout:
        if "KeyboardInterrupt" in done.stderr:  # Ctrl+C while rendering: nothing was written
            print("  Stopped before the demo's agreements were rendered: the next make run renders them.")
        else:
            print(f"demo documents: not made (the next make run tries again):\n{done.stdout[-2000:]}\n"
                  f"{done.stderr[-3000:]}")
        return 1
    print("  Done: Meridian Architects' plan is in force, Blue Fjord Seafood's waits for its signature.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
