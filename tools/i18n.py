"""Translation templates (.pot) of the addons, exported by Odoo, and their staleness check.

    python3 tools/i18n.py export --db DB --odoo-src SRC --addons-path PATH
        writes <addon>/i18n/<addon>.pot from a database where the addons are installed
        and up to date (`make pot` updates the demo database first).

    python3 tools/i18n.py check --db DB --odoo-src SRC --addons-path PATH
        run by `make test` on the suite's database: exports again into a temporary
        folder and fails when a committed .pot differs (a term added, changed or
        removed), and when a .po of the addon has terms the .pot no longer has, or
        misses terms it has. Prints "i18n: N passed, N failed".
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import polib
from common import ADDONS, ROOT, odoo_bin, tally_line


def export(db, odoo_src, addons_path, addon, target):
    proc = subprocess.run(
        odoo_bin(odoo_src, addons_path, "export", "-d", db, "-o", str(target), addon, command="i18n",
                 python=sys.executable),
        check=False, capture_output=True, text=True,
    )
    if proc.returncode != 0 or not Path(target).is_file():
        sys.exit(f"Odoo could not export the terms of {addon} from {db} (is it installed there?):\n"
                 f"{proc.stderr.strip()[-1500:]}")


def entries(path):
    """{(msgctxt, msgid): (sorted locations, msgstr)} of a .po/.pot (the header left out), read by polib (which
    Odoo itself depends on): multi-line strings, escapes and obsolete entries as gettext has them."""
    result = {}
    for entry in polib.pofile(str(path), wrapwidth=0):
        if entry.obsolete or not entry.msgid:
            continue
        locations = sorted(f"{where}:{line}" if line else where for where, line in entry.occurrences)
        result[entry.msgctxt or "", entry.msgid] = (tuple(locations), entry.msgstr)
    return result


def check(db, odoo_src, addons_path):
    results = []

    def record(name, problems):
        results.append(not problems)
        print(f"{'ok  ' if not problems else 'FAIL'} {name}", flush=True)
        for problem in problems[:20]:
            print(f"     {problem}")
        if len(problems) > 20:
            print(f"     ... and {len(problems) - 20} more")

    with tempfile.TemporaryDirectory(prefix="collections_i18n_") as tmp:
        for addon in ADDONS:
            committed = ROOT / addon / "i18n" / f"{addon}.pot"
            fresh = Path(tmp) / f"{addon}.pot"
            export(db, odoo_src, addons_path, addon, fresh)
            if not committed.exists():
                record(f"{addon}: i18n/{addon}.pot exists", ["missing: run `make pot`"])
                continue
            now, before = entries(fresh), entries(committed)
            problems = [f"new term: {msgid[:80]!r}" for key in now.keys() - before.keys() for msgid in [key[1]]]
            problems += [f"term gone: {msgid[:80]!r}" for key in before.keys() - now.keys() for msgid in [key[1]]]
            problems += [f"moved: {key[1][:60]!r} {before[key][0]} -> {now[key][0]}"
                         for key in now.keys() & before.keys() if now[key][0] != before[key][0]]
            record(f"{addon}: i18n/{addon}.pot is current" + (" (run `make pot`)" if problems else ""), problems)
            for po in sorted((ROOT / addon / "i18n").glob("*.po")):
                translated = entries(po)
                problems = [f"not in the .po: {key[1][:80]!r}" for key in now.keys() - translated.keys()]
                problems += [f"untranslated: {key[1][:80]!r}" for key, (_loc, msgstr) in translated.items()
                             if key in now and not msgstr]
                problems += [f"obsolete: {key[1][:80]!r}" for key in translated.keys() - now.keys()]
                record(f"{addon}: i18n/{po.name} translates every term", problems)
    passed = sum(results)
    print(tally_line("i18n", passed, len(results) - passed))
    return 0 if passed == len(results) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["export", "check"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--odoo-src", required=True)
    parser.add_argument("--addons-path", required=True)
    args = parser.parse_args()
    if args.command == "check":
        return check(args.db, args.odoo_src, args.addons_path)
    for addon in ADDONS:
        target = ROOT / addon / "i18n" / f"{addon}.pot"
        target.parent.mkdir(exist_ok=True)
        export(args.db, args.odoo_src, args.addons_path, addon, target)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
