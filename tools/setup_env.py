"""Find or set up what `make run` and `make test` need: Odoo 19 and a PostgreSQL that may create databases.

    python3 tools/setup_env.py env [--out .local/env.mk]   find or set up both, write the Make variables
    python3 tools/setup_env.py stop                         stop the private PostgreSQL (make stop)
    python3 tools/setup_env.py db-exists NAME               exit 0 when the database exists with the addon
                                                            installed, 1 when there is none, 3 when it exists
                                                            without the addon (a `make run` interrupted)

Odoo: the Python in ODOO_PYTHON when it imports odoo; else `python3` when it does (Odoo installed in the
base interpreter); else Odoo 19 is cloned (branch ODOO_BRANCH, shallow) from ODOO_REPO into .local/odoo
and installed with its requirements into the virtual environment .local/venv.

PostgreSQL: the server libpq reaches (PGHOST/PGPORT or the default socket) when the user may create
databases there; else a private cluster in .local/pgdata, listening on a unix socket only, started with
the system's initdb/pg_ctl when PostgreSQL is installed, else with the binaries of the `pgserver` wheel
(PostgreSQL 16: Odoo 19 needs 13 or later; pip installs it on Linux and macOS without root or a compiler).
PostgreSQL refuses to run as root, so as root (a container, a CI machine) no private cluster: the system's
own cluster is started with Debian's pg_ctlcluster (created with pg_createcluster when PostgreSQL is
installed without one) and root is given a role that may create databases; elsewhere, as root, start a
server yourself or run as a normal user.

The addon's own packages (requirements.txt, requirements-dev.txt) are never installed into a Python of the
user's: when the Python that imports Odoo lacks some, a virtual environment .local/venv-odoo is made on top of
it (``--system-site-packages``: it sees that Python's Odoo) and they go there; Odoo's data folder (filestore,
sessions) is .local/odoo-data (the filestores of databases made before, in Odoo's default data folder, are
linked there); pip's cache is .local/pip-cache.

    python3 tools/setup_env.py deps [--runtime]             install the addon's packages (runtime only with
                                                            --runtime) into the .local Python make uses, or
                                                            say which are missing from a Python of the user's

Everything this tool creates is under .local/ (git-ignored); `make clean-local` removes it.
"""
import argparse
import getpass
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
OVERLAY = LOCAL / "venv-odoo"
# pip's cache in the clone too (pip and the tools it starts read it from the environment).
os.environ.setdefault("PIP_CACHE_DIR", str(LOCAL / "pip-cache"))
ODOO_REPO = os.environ.get("ODOO_REPO") or "https://github.com/odoo/odoo.git"
ODOO_BRANCH = os.environ.get("ODOO_BRANCH") or "19.0"
# What Odoo 19's requirements need to install with pip on a current Python (measured on Debian 12,
# Python 3.10 and 3.11): its setup.py-based packages build with setuptools older than 70 (newer ones
# removed what they import), and only without pip's build isolation (which would fetch the newest).
BUILD_TOOLS = ["setuptools<70", "wheel", "setuptools_scm"]


def say(message):
    print(f"[setup] {message}", file=sys.stderr, flush=True)


def run(command, **kwargs):
    say("$ " + " ".join(shlex.quote(str(part)) for part in command))
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def probe(python, code):
    """stdout of ``python -c code``, or None when it fails."""
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


ODOO_PROBE = (
    "import odoo.release, os; assert odoo.release.version_info[0] == 19, odoo.release.version; "
    "print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__path__[0] + '/__init__.py'))))"
)


# ----------------------------------------------------------------------------------------------
# Odoo
# ----------------------------------------------------------------------------------------------

def find_odoo():
    """(python, odoo source folder) of an existing Odoo 19, or None."""
    candidates = [os.environ.get("ODOO_PYTHON"), "python3", str(LOCAL / "venv" / "bin" / "python")]
    for python in filter(None, candidates):
        if python == str(LOCAL / "venv" / "bin" / "python") and not (LOCAL / "venv" / ".installed").exists():
            continue
        src = probe(python, ODOO_PROBE)
        if src:
            src = os.environ.get("ODOO_SRC") or src
            if (Path(src) / "odoo-bin").exists():
                return python, src
        if python == os.environ.get("ODOO_PYTHON"):
            raise SystemExit(f"ODOO_PYTHON={python} does not import Odoo 19 (or ODOO_SRC has no odoo-bin).")
    return None


def requirements(src):
    """Odoo's requirements.txt as pip can install it without system headers: psycopg2 from its binary
    wheel (psycopg2-binary, same version and module; the source package needs libpq-dev and a compiler)
    and without python-ldap (only Odoo's auth_ldap uses it; it needs libldap2-dev and libsasl2-dev)."""
    lines = []
    for line in (src / "requirements.txt").read_text().splitlines():
        name = line.split("=")[0].split(";")[0].strip().lower()
        if name == "python-ldap":
            continue
        lines.append(line.replace("psycopg2==", "psycopg2-binary==", 1) if name == "psycopg2" else line)
    path = LOCAL / "odoo-requirements.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def install_odoo():
    """Clone Odoo 19 into .local/odoo and install it into .local/venv; returns (python, source folder)."""
    LOCAL.mkdir(exist_ok=True)
    src, venv = LOCAL / "odoo", LOCAL / "venv"
    if not (src / "odoo-bin").exists():
        shutil.rmtree(src, ignore_errors=True)
        say(f"Odoo 19 not found: cloning {ODOO_REPO} (branch {ODOO_BRANCH}) into {src} (set ODOO_REPO to use "
            "another copy, ODOO_PYTHON to use an installed Odoo)")
        run(["git", "clone", "--quiet", "--depth", "1", "--branch", ODOO_BRANCH, ODOO_REPO, src])
    python = venv / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", venv])
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    say("installing Odoo's requirements into .local/venv (several minutes the first time)")
    run([*pip, *BUILD_TOOLS])
    run([*pip, "--no-build-isolation", "-r", requirements(src)])
    run([*pip, "--no-build-isolation", "--no-deps", "-e", src])
    run([*pip, "-r", ROOT / "requirements.txt", "-r", ROOT / "requirements-dev.txt"])
    (venv / ".installed").write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    return str(python), str(src)


def requirement_names(runtime=False):
    """Distribution names of the addon's packages (requirements.txt; requirements-dev.txt too unless ``runtime``)."""
    names, files = [], [ROOT / "requirements.txt"] + ([] if runtime else [ROOT / "requirements-dev.txt"])
    for path in files:
        for text in path.read_text().splitlines():
            line = text.split("#")[0].strip()
            if line and not line.startswith("-"):
                names.append(re.split(r"[;\[=<>~! ]", line, maxsplit=1)[0])
    return names


def missing_packages(python, runtime=False):
    """The addon's packages ``python`` does not have (presence only: pip decides versions when it installs)."""
    code = ("import importlib.metadata as m, sys\n"
            "for name in sys.argv[1:]:\n"
            "    try:\n        m.distribution(name)\n"
            "    except m.PackageNotFoundError:\n        print(name)\n")
    done = subprocess.run([python, "-c", code, *requirement_names(runtime)], capture_output=True, text=True,
                          check=False)
    return done.stdout.split()


def in_local(python):
    return Path(python).absolute().is_relative_to(LOCAL)


def overlay(python):
    """A Python with the addon's packages for ``python`` (a Python of the user's that imports Odoo): itself when
    it has them all, else .local/venv-odoo made on top of it (its packages, Odoo included, seen; ours installed
    there only)."""
    venv_python = OVERLAY / "bin" / "python"
    if (OVERLAY / ".installed").exists() and venv_python.exists():
        return str(venv_python)
    missing = missing_packages(python)
    if not missing:
        return python
    say(f"{python} lacks {', '.join(missing)}: installing them into .local/venv-odoo, on top of it "
        "(nothing is installed into your Python)")
    run([python, "-m", "venv", "--system-site-packages", OVERLAY])
    run([venv_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", ROOT / "requirements.txt", "-r", ROOT / "requirements-dev.txt"])
    (OVERLAY / ".installed").write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    return str(venv_python)


def deps_command(runtime=False):
    """`make deps`: the addon's packages into the Python make uses when it is one of .local's; a Python of the user's
    is never changed: what it lacks is said (make's set-up installs it into .local/venv-odoo)."""
    python = os.environ.get("ODOO_PYTHON") or sys.executable
    if in_local(python):
        files = ["-r", ROOT / "requirements.txt"] + ([] if runtime else ["-r", ROOT / "requirements-dev.txt"])
        if missing_packages(python, runtime):
            run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *files])
        return
    missing = missing_packages(python, runtime)
    if missing:
        raise SystemExit(f"{python} lacks {', '.join(missing)}; make does not install into your Python: "
                         f"remove .local/env.mk and run make again (it sets up .local/venv-odoo), or install them.")


def default_data_dir():
    """Odoo's own default data folder (where databases made before .local/odoo-data keep their files)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Odoo"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "Odoo"


def link_old_filestores():
    """The tools keep Odoo's files in .local/odoo-data: a database the tools made before (collections_*) keeps its
    files where they are, linked from there."""
    old, new = default_data_dir() / "filestore", LOCAL / "odoo-data" / "filestore"
    new.mkdir(parents=True, exist_ok=True)
    if not old.is_dir():
        return
    for folder in old.glob("collections*"):
        target = new / folder.name
        if folder.is_dir() and not target.exists() and not target.is_symlink():
            target.symlink_to(folder)


# ----------------------------------------------------------------------------------------------
# PostgreSQL
# ----------------------------------------------------------------------------------------------

PG_PROBE = (
    "import psycopg2; c = psycopg2.connect(dbname='postgres', connect_timeout=5); k = c.cursor(); "
    "k.execute('SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user'); "
    "row = k.fetchone(); print('ok' if row and row[0] else 'norole')"
)


def pg_state(python, env=None):
    """'ok', 'norole' (reachable, but may not create databases) or None (not reachable)."""
    done = subprocess.run([python, "-c", PG_PROBE], capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    return done.stdout.strip() or None if done.returncode == 0 else None


def pg_bindir(python):
    """Folder of initdb and pg_ctl: the system's PostgreSQL, else the pgserver wheel's (installed on demand)."""
    found = shutil.which("pg_ctl") and shutil.which("initdb")
    if found:
        return str(Path(found).parent)
    system = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if system:
        return str(Path(system[-1]).parent)
    if not in_local(python):  # a Python of the user's: the wheel goes into a venv of .local's
        venv = LOCAL / "pgserver-venv"
        if not (venv / "bin" / "python").exists():
            run([sys.executable, "-m", "venv", venv])
        python = str(venv / "bin" / "python")
    say("no PostgreSQL installed: installing the pgserver wheel (PostgreSQL 16 binaries) into a Python of .local")
    run([python, "-m", "pip", "install", "--quiet", "pgserver"])
    bindir = probe(python, "import pgserver, os; print(os.path.join(os.path.dirname(pgserver.__file__), "
                           "'pginstall', 'bin'))")
    if not bindir or not (Path(bindir) / "initdb").exists():
        raise SystemExit("pgserver installed, but its initdb was not found: install PostgreSQL 13 or later.")
    return bindir


def socket_dir():
    # A unix socket path must stay under about 100 characters: a deep checkout uses /tmp.
    path = LOCAL / "pgrun"
    if len(str(path)) > 80:
        path = Path("/tmp") / f"cf-pg-{zlib.crc32(str(ROOT).encode()):08x}"  # the same in every process
    return path


def clusters():
    """Debian's PostgreSQL clusters as (version, name, port, status, owner) rows; [] without pg_lsclusters."""
    if not shutil.which("pg_lsclusters"):
        return []
    done = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False)
    return [tuple(line.split()[:5]) for line in done.stdout.splitlines() if len(line.split()) >= 5]


def start_system_server(python):
    """As root: start the system's cluster (the one on port 5432, else the first) and give root a role
    that may create databases. Returns its port when it then accepts root's connections, else None."""
    found = clusters()
    if not found:
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        if not versions or not shutil.which("pg_createcluster"):
            return None
        say("PostgreSQL is installed without a cluster: creating the system's cluster 'main'")
        run(["pg_createcluster", versions[-1].split("/")[4], "main"], stdout=subprocess.DEVNULL)
        found = clusters()
    version, name, port, status, owner = next((row for row in found if row[2] == "5432"), found[0])
    if not status.startswith("online"):
        say(f"PostgreSQL {version}/{name} is stopped: starting it (as root, make uses the system's cluster)")
        run(["pg_ctlcluster", version, name, "start"])
    user = getpass.getuser()
    as_owner = ["runuser", "-u", owner, "--"]
    role = subprocess.run([*as_owner, "psql", "-p", port, "-XtAc",
                           f"SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = '{user}'"],
                          capture_output=True, text=True, check=False).stdout.strip()
    if role != "t":
        say(f"giving {user} a PostgreSQL role that may create databases")
        sql = "ALTER" if role == "f" else "CREATE"
        run([*as_owner, "psql", "-p", port, "-Xqc", f'{sql} ROLE "{user}" LOGIN SUPERUSER'])
    return port if pg_state(python, {"PGPORT": port}) == "ok" else None


def start_private_cluster(python):
    if os.geteuid() == 0:
        raise SystemExit(
            "No PostgreSQL server accepts your connections, and PostgreSQL refuses to run as root: make found "
            "no system cluster to start (Debian's pg_lsclusters/pg_ctlcluster). Start a server and give root a "
            "role (createuser --superuser root), or run make as a normal user.")
    data, sock = LOCAL / "pgdata", socket_dir()
    bindir = pg_bindir(python)
    LOCAL.mkdir(exist_ok=True)
    sock.mkdir(parents=True, exist_ok=True)
    if not (data / "PG_VERSION").exists():
        say(f"no PostgreSQL server reachable: creating a private cluster in {data}")
        run([Path(bindir) / "initdb", "-D", data, "-U", getpass.getuser(), "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8"], stdout=subprocess.DEVNULL)
    env = {"PGHOST": str(sock), "PGPORT": "5432"}
    if pg_state(python, env) is None:
        run([Path(bindir) / "pg_ctl", "-D", data, "-l", LOCAL / "postgresql.log", "-w", "-o",
             f"-k {sock} -c listen_addresses='' -p 5432", "start"], stdout=subprocess.DEVNULL)
    if pg_state(python, env) != "ok":
        raise SystemExit(f"the private PostgreSQL did not start: see {LOCAL / 'postgresql.log'}")
    (LOCAL / "pgbin").write_text(bindir)
    return env


def stop():
    data = LOCAL / "pgdata"
    bindir = (LOCAL / "pgbin").read_text().strip() if (LOCAL / "pgbin").exists() else None
    if not bindir or not (data / "postmaster.pid").exists():
        say("no private PostgreSQL running")
        return
    run([Path(bindir) / "pg_ctl", "-D", data, "-m", "fast", "stop"], stdout=subprocess.DEVNULL)


# ----------------------------------------------------------------------------------------------

def env_command(out):
    found = find_odoo()
    python, src = found or install_odoo()
    if not in_local(python):
        python = overlay(python)
    link_old_filestores()
    lines = [f"ODOO_PYTHON := {python}", f"ODOO_SRC := {src}"]
    state = pg_state(python)
    private = LOCAL / "pgdata" / "PG_VERSION"
    if state in (None, "norole") and os.geteuid() == 0 and not private.exists():
        port = start_system_server(python)
        if port:
            state = "ok"
            if port != "5432":
                lines += [f"PGPORT := {port}", "export PGPORT"]
    where = "the server libpq reaches"
    if state is None or private.exists():
        where = f"private, socket in {socket_dir()}"
        pg_env = start_private_cluster(python)
        lines += [f"{name} := {value}" for name, value in pg_env.items()]
        lines.append("export PGHOST PGPORT")
        # Its client tools (psql, createdb, dropdb, pg_isready) first on the PATH of make's commands.
        lines.append(f"export PATH := {(LOCAL / 'pgbin').read_text().strip()}:$(PATH)")
    elif state == "norole":
        user = getpass.getuser()
        raise SystemExit(f"PostgreSQL answers, but {user} may not create databases: "
                         f"sudo -u postgres createuser --superuser {user}")
    text = "# Written by tools/setup_env.py: where Odoo and PostgreSQL are.\n" + "\n".join(lines) + "\n"
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if not Path(out).exists() or Path(out).read_text() != text:
        Path(out).write_text(text)
    say(f"Odoo: {python} ({src}); PostgreSQL: {where}")


DB_READY, DB_ABSENT, DB_WITHOUT_ADDON = 0, 1, 3


def db_exists(name):
    """DB_READY when database ``name`` exists with collections_followup installed, DB_ABSENT when there is no such
    database, DB_WITHOUT_ADDON when it exists without the addon installed (a `make run` stopped while it installed,
    or another database of that name): `make run` must not serve it as the demo."""
    code = (
        "import psycopg2, sys\n"
        "with psycopg2.connect(dbname='postgres') as c, c.cursor() as k:\n"
        "    k.execute('SELECT 1 FROM pg_database WHERE datname = %s', [sys.argv[1]])\n"
        "    found = k.fetchone()\n"
        "if not found:\n"
        f"    sys.exit({DB_ABSENT})\n"
        "try:\n"
        "    with psycopg2.connect(dbname=sys.argv[1]) as c, c.cursor() as k:\n"
        "        k.execute(\"SELECT state FROM ir_module_module WHERE name = 'collections_followup'\")\n"
        "        row = k.fetchone()\n"
        "except psycopg2.Error:\n"
        "    row = None\n"
        f"sys.exit({DB_READY} if row and row[0] == 'installed' else {DB_WITHOUT_ADDON})\n"
    )
    return subprocess.run([sys.executable, "-c", code, name], check=False).returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    env = sub.add_parser("env")
    env.add_argument("--out", default=str(LOCAL / "env.mk"))
    sub.add_parser("stop")
    exists = sub.add_parser("db-exists")
    exists.add_argument("name")
    deps = sub.add_parser("deps")
    deps.add_argument("--runtime", action="store_true")
    args = parser.parse_args()
    if args.command == "env":
        env_command(args.out)
    elif args.command == "deps":
        deps_command(args.runtime)
    elif args.command == "stop":
        stop()
    else:
        sys.exit(db_exists(args.name))


if __name__ == "__main__":
    main()
