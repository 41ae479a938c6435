"""tools/setup_env.py: what it installs Odoo's requirements with, and how it refuses a wrong ODOO_PYTHON."""
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
