"""The migrations/ folder of each addon follows Odoo's layout (see collections_followup/migrations/README.md)."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ["collections_followup", "collections_followup_sale", "collections_followup_snailmail"]
VERSION = re.compile(r"^19\.0\.\d+\.\d+\.\d+$")
SCRIPT = re.compile(r"^(pre|post|end)-[a-z0-9_]+\.py$")


def _version(text):
    return tuple(int(part) for part in text.split("."))


def _manifest_version(addon):
    return ast.literal_eval((ROOT / addon / "__manifest__.py").read_text(encoding="utf-8"))["version"]


def _migration_folders():
    for addon in ADDONS:
        folder = ROOT / addon / "migrations"
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_dir() and path.name != "__pycache__":
                    yield addon, path


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest_version_is_odoo_19(addon):
    assert VERSION.match(_manifest_version(addon))


def test_each_migration_folder_is_a_released_version_with_migrate_scripts():
    for addon, folder in _migration_folders():
        assert VERSION.match(folder.name), f"{folder}: not a 19.0.x.y.z version"
        assert _version(folder.name) <= _version(_manifest_version(addon)), (
            f"{folder}: newer than the manifest's version: bump it"
        )
        scripts = [path for path in folder.iterdir() if path.suffix == ".py"]
        assert scripts, f"{folder}: no script"
        for script in scripts:
            assert SCRIPT.match(script.name), f"{script.name}: name it pre-, post- or end-<what>.py"
            tree = ast.parse(script.read_text(encoding="utf-8"))
            functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
            assert "migrate" in functions, f"{script}: defines no migrate(cr, version)"
            assert [arg.arg for arg in functions["migrate"].args.args] == ["cr", "version"], script


def test_layout_check_finds_a_wrong_script(tmp_path, monkeypatch):
    """The check above fails on a misnamed folder or a script without migrate()."""
    addon = tmp_path / "collections_followup"
    (addon / "migrations" / "19.0.9.0.0").mkdir(parents=True)
    (addon / "migrations" / "19.0.9.0.0" / "post-fill.py").write_text("def run(cr):\n    pass\n")
    (addon / "__manifest__.py").write_text("{'version': '19.0.9.0.0'}")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "ADDONS", ["collections_followup"])
    with pytest.raises(AssertionError, match="defines no migrate"):
        test_each_migration_folder_is_a_released_version_with_migrate_scripts()
