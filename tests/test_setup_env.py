"""tools/setup_env.py: what it installs Odoo's requirements with, and how it refuses a wrong ODOO_PYTHON."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import setup_env


def test_requirements_install_without_system_headers(tmp_path, monkeypatch):
    monkeypatch.setattr(setup_env, "LOCAL", tmp_path / ".local")
    (tmp_path / ".local").mkdir()
    (tmp_path / "requirements.txt").write_text(
        "Babel==2.10.3\n"
        "psycopg2==2.9.5 ; python_version == '3.11'\n"
        "python-ldap==3.4.0 ; sys_platform != 'win32' and python_version < '3.12' # min version\n"
        "psutil==5.9.4\n"
    )
    lines = setup_env.requirements(tmp_path).read_text().splitlines()
    assert lines == ["Babel==2.10.3", "psycopg2-binary==2.9.5 ; python_version == '3.11'", "psutil==5.9.4"]


def test_a_given_odoo_python_that_does_not_import_odoo_is_refused(monkeypatch):
    monkeypatch.setenv("ODOO_PYTHON", sys.executable)
    monkeypatch.setattr(setup_env, "probe", lambda python, code: None)
    with pytest.raises(SystemExit, match="does not import Odoo 19"):
        setup_env.find_odoo()


def test_python3_that_imports_odoo_is_used_without_installing(monkeypatch, tmp_path):
    monkeypatch.delenv("ODOO_PYTHON", raising=False)
    monkeypatch.delenv("ODOO_SRC", raising=False)
    (tmp_path / "odoo-bin").write_text("")
    monkeypatch.setattr(setup_env, "probe", lambda python, code: str(tmp_path) if python == "python3" else None)
    assert setup_env.find_odoo() == ("python3", str(tmp_path))


def test_debian_clusters_are_read_from_pg_lsclusters(tmp_path, monkeypatch):
    script = tmp_path / "pg_lsclusters"
    script.write_text(
        "#!/bin/sh\n"
        "echo '13  old  5433 down   postgres /var/lib/postgresql/13/old  /var/log/postgresql/x.log'\n"
        "echo '15  main 5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/y.log'\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert setup_env.clusters() == [
        ("13", "old", "5433", "down", "postgres"),
        ("15", "main", "5432", "online", "postgres"),
    ]


def test_without_pg_lsclusters_there_is_no_system_cluster_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert setup_env.clusters() == []
    # nor pg_createcluster to make one: nothing is started, and make says so (start_private_cluster, as root)
    assert setup_env.start_system_server(sys.executable) is None


def test_make_run_tells_a_demo_database_without_the_addon_from_a_ready_one():
    """db-exists on a real PostgreSQL: no database, one where the addon's install was stopped, one where it is
    installed (make run serves only the last, and stops with what to do on the second)."""
    # The Python that runs Odoo has psycopg2; make lint's Python 3.10 check of the engine has not.
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"collections_dbstate_{os.getpid()}"
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    try:
        assert setup_env.db_exists(name) == setup_env.DB_ABSENT
        with admin.cursor() as cr:
            cr.execute(f'CREATE DATABASE "{name}"')
        assert setup_env.db_exists(name) == setup_env.DB_WITHOUT_ADDON, "an empty database (no Odoo in it)"
        with psycopg2.connect(dbname=name) as conn, conn.cursor() as cr:
            cr.execute("CREATE TABLE ir_module_module (name varchar, state varchar)")
            cr.execute("INSERT INTO ir_module_module VALUES ('base', 'installed'), "
                       "('collections_followup', 'to install')")
        conn.close()
        assert setup_env.db_exists(name) == setup_env.DB_WITHOUT_ADDON, "the install was stopped"
        with psycopg2.connect(dbname=name) as conn, conn.cursor() as cr:
            cr.execute("UPDATE ir_module_module SET state = 'installed'")
        conn.close()
        assert setup_env.db_exists(name) == setup_env.DB_READY
    finally:
        with admin.cursor() as cr:
            cr.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
