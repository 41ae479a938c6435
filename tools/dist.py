"""Wheels of the addons, as the Odoo community publishes them (odoo-addon-<name>).

    python3 tools/dist.py build [--out dist]
        one wheel per addon, built by whool (the community's build backend for
        Odoo addons) from the files under git control; version = the manifest's,
        plus the number of commits since it last changed.

    python3 tools/dist.py check --db DB --odoo-src SRC
        run by `make test` on the test suite's database: builds the wheels,
        installs them with pip into a new virtual environment that sees Odoo
        (--system-site-packages), then updates the addons of a copy of DB from
        the installed wheels, with an addons path that does not contain this
        repository. Prints "package: N passed, N failed".
"""
import argparse
import ast
import re
import site
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from common import ADDONS, ROOT, odoo_bin, tally_line

# Each Requires-Dist of the installed addon wheels, checked against the environment.
REQUIREMENTS_PROBE = """
import sys
from importlib.metadata import distribution, version, PackageNotFoundError
from packaging.requirements import Requirement
bad = []
for name in ("odoo-addon-collections_followup", "odoo-addon-collections_followup_sale",
             "odoo-addon-collections_followup_snailmail"):
    for text in distribution(name).requires or []:
        req = Requirement(text)
        try:
            found = version(req.name)
        except PackageNotFoundError:
            bad.append(f"{name} requires {text}: not installed")
            continue
        if not req.specifier.contains(found, prereleases=True):
            bad.append(f"{name} requires {text}: {found} installed")
        print(name, "requires", text, "->", found)
if bad:
    sys.exit("; ".join(bad))
"""


def manifest_version(addon):
    return ast.literal_eval((ROOT / addon / "__manifest__.py").read_text(encoding="utf-8"))["version"]


def untracked(addon):
    """Files of the addon git does not know: whool leaves them out of the wheel."""
    out = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", addon],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return out.split()


def build(out):
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    wheels = []
    for addon in ADDONS:
        missing = untracked(addon)
        if missing:
            sys.exit(f"{addon}: files not under git control would be left out of the wheel: "
                     f"{', '.join(missing)} (git add them)")
        before = set(out.glob(f"odoo_addon_{addon}-*.whl"))
        for old in before:
            old.unlink()
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--wheel-dir", str(out), "."],
            cwd=ROOT / addon, check=True,
        )
        (wheel,) = out.glob(f"odoo_addon_{addon}-*.whl")
        wheels.append(wheel)
        print(f"built {wheel.name}")
    return wheels


def check(db, odoo_src):
    results = []

    def record(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)

    with tempfile.TemporaryDirectory(prefix="collections_dist_") as tmp_name:
        tmp = Path(tmp_name)
        wheels = build(tmp / "dist")
        for addon, wheel in zip(ADDONS, wheels, strict=True):
            version = manifest_version(addon)
            record(f"wheel name of {addon}", re.fullmatch(
                rf"odoo_addon_{addon}-{re.escape(version)}(\.\d+)?-py3-none-any\.whl", wheel.name,
            ) is not None, wheel.name)
        venv = tmp / "venv"
        python = str(venv / "bin" / "python")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # The new environment sees what this Python sees (Odoo and its requirements, editable installs
        # included), after its own packages: --system-site-packages would see the base interpreter's
        # only, not those of the virtual environment Odoo may be installed in.
        own = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
        inherited = [*site.getsitepackages(), *([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])]
        (Path(own) / "_collections_inherited.pth").write_text(
            "".join(f"import site; site.addsitedir({path!r})\n" for path in inherited if Path(path).is_dir()))
        # --no-deps: pip would also re-check Odoo's own requirements; what our wheels require
        # (Odoo 19, phonenumbers, the main addon for the bridge) is checked just below instead.
        install = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", *map(str, wheels)],
            capture_output=True, text=True, check=False,
        )
        record("pip install of the wheels", install.returncode == 0, install.stderr.strip()[-500:])
        requirements = subprocess.run([python, "-c", REQUIREMENTS_PROBE], capture_output=True, text=True, check=False)
        record("what the wheels require is installed", requirements.returncode == 0,
               (requirements.stdout + requirements.stderr).strip()[-800:])
        where = subprocess.run(
            [python, "-c", "from importlib.util import find_spec as f\n"
                           f"for a in {ADDONS!r}: print(f('odoo.addons.' + a).submodule_search_locations[0])"],
            capture_output=True, text=True, check=False,
        ).stdout.split()
        record("addons imported from the virtual environment",
               len(where) == len(ADDONS) and all(path.startswith(str(venv)) for path in where), " ".join(where))
        copy = f"{db}_dist_{uuid.uuid4().hex[:6]}"
        subprocess.run(["createdb", "-T", db, copy], check=True)
        try:
            # Only Odoo's own addons on the path: the addons can come from nowhere but the wheels.
            options = ["-d", copy, "--log-level=warn"]
            update = subprocess.run(
                odoo_bin(odoo_src, f"{odoo_src}/addons", *options, "--http-port=0", "-u", ",".join(ADDONS),
                         "--stop-after-init", python=python), capture_output=True, text=True, check=False,
            )
            errors = [line for line in update.stdout.splitlines() + update.stderr.splitlines()
                      if re.search(r"\d (ERROR|CRITICAL) ", line)]
            record("addons updated in a database from the wheels", update.returncode == 0 and not errors,
                   "; ".join(errors)[:800])
            probe = (
                "import odoo.modules.module as mm\n"
                f"mods = env['ir.module.module'].search([('name', 'in', {ADDONS!r})])\n"
                "for m in mods.sorted('name'):\n"
                "    print('MODULE', m.name, m.state, m.latest_version, mm.get_module_path(m.name))\n"
            )
            shell = subprocess.run(odoo_bin(odoo_src, f"{odoo_src}/addons", *options, "--no-http", command="shell",
                                            python=python), input=probe,
                                   capture_output=True, text=True, check=False)
            rows = [line.split()[1:] for line in shell.stdout.splitlines() if line.startswith("MODULE ")]
            for addon in ADDONS:
                row = next((r for r in rows if r[0] == addon), None)
                ok = bool(row) and row[1] == "installed" and row[2] == manifest_version(addon) \
                    and row[3].startswith(str(venv))
                record(f"{addon} installed from the wheel", ok, " ".join(row or ["not found"]))
        finally:
            subprocess.run(["dropdb", "--if-exists", copy], check=False)
    passed = sum(results)
    print(tally_line("package", passed, len(results) - passed))
    return 0 if passed == len(results) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build")
    build_parser.add_argument("--out", default=str(ROOT / "dist"))
    check_parser = sub.add_parser("check")
    check_parser.add_argument("--db", required=True)
    check_parser.add_argument("--odoo-src", required=True)
    args = parser.parse_args()
    if args.command == "build":
        build(args.out)
        return 0
    return check(args.db, args.odoo_src)


if __name__ == "__main__":
    sys.exit(main())
