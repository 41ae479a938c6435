"""Check what collections_followup needs to run and test; one line per problem, with what it disables.

    python3 tools/doctor.py [run|test]

Odoo 19 and a PostgreSQL that lets the user create databases are needed by both (tools/setup_env.py
sets them up when missing). wkhtmltopdf and Chromium are optional for `make run` (a note says what
each one's absence disables) and required by `make test` (it refuses to skip browser tours).
Starts PostgreSQL with pg_ctlcluster when it is installed but stopped. Exit status 1 when anything
the purpose needs is missing.
"""
import glob
import os
import shutil
import subprocess
import sys

problems = []


def check_odoo():
    try:
        from odoo import release
    except ImportError:
        problems.append(
            f"Odoo is not importable by {sys.executable}: run make run or make test (they set Odoo up in "
            ".local/), or set ODOO_PYTHON=<a python that imports Odoo 19> (README.md, 'Two commands')."
        )
        return
    if release.version_info[0] != 19:
        problems.append(f"Odoo {release.version} found, Odoo 19 is required (set ODOO_PYTHON).")
    src = os.environ.get("ODOO_SRC")
    if not src or not os.path.exists(os.path.join(src, "odoo-bin")):
        problems.append(f"odoo-bin not found in ODOO_SRC={src!r}: set ODOO_SRC to the Odoo 19 source folder.")


def pg_ready():
    return subprocess.run(["pg_isready", "-q"], check=False).returncode == 0


def check_postgres():
    if not shutil.which("pg_isready"):
        problems.append("PostgreSQL client tools are missing: install postgresql (apt-get install postgresql).")
        return
    if pg_ready():
        return
    for cluster in glob.glob("/etc/postgresql/*/*"):
        version, name = cluster.split("/")[-2:]
        subprocess.run(["pg_ctlcluster", version, name, "start"], check=False, capture_output=True)
    for _ in range(20):
        if pg_ready():
            return
        subprocess.run(["sleep", "0.5"], check=False)
    problems.append("PostgreSQL does not accept connections: start it (pg_ctlcluster 15 main start).")


def check_role():
    if not pg_ready():
        return
    query = "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
    probe = subprocess.run(["psql", "-d", "postgres", "-tAc", query], check=False, capture_output=True, text=True)
    if probe.stdout.strip() != "t":
        user = os.environ.get("USER") or "your user"
        problems.append(
            f"PostgreSQL has no role for {user} that may create databases: "
            f"sudo -u postgres createuser --superuser {user}"
        )


def check_tools():
    if not shutil.which("wkhtmltopdf"):
        problems.append("wkhtmltopdf is missing: no PDF letters, statements, plan agreements or invoice PDFs "
                        "attached to reminders (Odoo falls back to HTML): apt-get install wkhtmltopdf.")
    if not (shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")):
        problems.append("Chromium is missing: the browser tours of make test cannot run (make test fails; "
                        "make run is not affected): apt-get install chromium.")
    try:
        import websocket  # noqa: F401
    except ImportError:
        problems.append(
            f"websocket-client is missing from {sys.executable} (Odoo would skip browser tours): "
            f"{sys.executable} -m pip install websocket-client"
        )
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        problems.append(
            f"aiosmtpd is missing from {sys.executable} (the crash tests' SMTP server): "
            f"{sys.executable} -m pip install aiosmtpd"
        )
    try:
        import whool  # noqa: F401
    except ImportError:
        problems.append(
            f"whool is missing from {sys.executable} (builds the addons' wheels): {sys.executable} -m pip install whool"
        )


def main():
    purpose = sys.argv[1] if len(sys.argv) > 1 else "test"
    check_odoo()
    check_postgres()
    check_role()
    required = list(problems)
    problems.clear()
    check_tools()
    optional = list(problems)
    for problem in required:
        print(f"doctor: {problem}", file=sys.stderr)
    for problem in optional:
        print(f"doctor: {'note: ' if purpose == 'run' else ''}{problem}", file=sys.stderr)
    sys.exit(1 if required or (optional and purpose != "run") else 0)


if __name__ == "__main__":
    main()
