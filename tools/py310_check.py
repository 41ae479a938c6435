"""make py310: check that the repository runs on Python 3.10, the oldest Python Odoo 19 supports.

ruff's target-version only shapes its suggestions: it does not report a name
Python 3.10 lacks (``from datetime import UTC`` is 3.11). This check, under a
real Python 3.10 interpreter:

1. compiles every .py file of the repository (syntax);
2. walks each file's AST: every ``from M import N`` and every ``M.attr`` after
   ``import M``, where M is a standard-library module, must exist in 3.10
   (imports guarded by ``try``/``except ImportError`` or ``if sys.version_info``
   are left alone);
3. runs the engine's pytest suite (tests/) under 3.10, in a throwaway virtual environment made from that
   interpreter under .local/py310-venv (pytest, python-dateutil and phonenumbers are installed there, never into
   the interpreter itself: a test command does not change a user's Python).

The interpreter: $PYTHON310, else python3.10 on PATH, else the newest
~/.pyenv/versions/3.10*/bin/python, else the running Python if it is 3.10. Prints one line per problem, then one
summary line. Exit status: 0 clean, 1 problems, 2 no Python 3.10 found (as tox's skip_missing_interpreters: make
test reports it as not run and passes, except under CI=true, which requires it).
"""
import argparse
import ast
import glob
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

from common import ROOT

TEST_PACKAGES = ["pytest", "python-dateutil", "phonenumbers"]
VENV = ROOT / ".local" / "py310-venv"
os.environ.setdefault("PIP_CACHE_DIR", str(ROOT / ".local" / "pip-cache"))  # pip's cache in the clone too
# Standard-library modules newer than 3.10, which 3.10's sys.stdlib_module_names cannot know.
NEWER_STDLIB = {"tomllib", "annotationlib", "compression"}
SKIPPED_DIRS = {"__pycache__", "node_modules", "dist", "build"}
GUARD_EXCEPTIONS = {"ImportError", "ModuleNotFoundError", "AttributeError", "Exception", "BaseException"}
HOW_TO = "set PYTHON310=/path/to/python3.10 (e.g. make test PYTHON310=...), or put python3.10 on PATH"


# ---------------------------------------------------------------- inside 3.10


def python_files():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and d not in SKIPPED_DIRS and not d.endswith(".egg-info")
            and not (Path(folder) / d / "pyvenv.cfg").exists()
        )
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder) / name


def guarded(handlers):
    """Whether a try statement's handlers catch a failed import."""
    for handler in handlers:
        if handler.type is None:
            return True
        caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(t, ast.Name) and t.id in GUARD_EXCEPTIONS for t in caught):
            return True
    return False


def version_test(test):
    return any(
        (isinstance(n, ast.Attribute) and n.attr == "version_info")
        or (isinstance(n, ast.Name) and n.id in {"hasattr", "version_info"})
        for n in ast.walk(test)
    )


def unguarded_nodes(tree):
    """Every node, except those under a try/except ImportError or an if on sys.version_info/hasattr."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.Try) and guarded(node.handlers):
            stack.extend(node.handlers + node.orelse + node.finalbody)
            continue
        if isinstance(node, ast.If) and version_test(node.test):
            continue
        stack.extend(ast.iter_child_nodes(node))


def lookup(obj, attr):
    """(True, obj.attr) when obj has attr, or attr is a submodule of module obj; else (False, None)."""
    if hasattr(obj, attr):
        return True, getattr(obj, attr)
    if isinstance(obj, types.ModuleType):
        try:
            return True, importlib.import_module(f"{obj.__name__}.{attr}")
        except ImportError:
            pass
    return False, None


def resolve(obj, attrs):
    """Follow attrs from obj through modules and classes; the first missing dotted name, or None."""
    name = getattr(obj, "__name__", "?")
    for attr in attrs:
        if not isinstance(obj, (type, types.ModuleType)):
            return None  # a function, an instance...: its attributes are not ours to guess
        found, obj = lookup(obj, attr)
        name = f"{name}.{attr}"
        if not found:
            return name
    return None


def load(module, problems, where):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        problems.append(f"{where}: module {module} does not exist in Python 3.10")
    except Exception as error:  # noqa: BLE001 - a module that fails to import is the finding
        problems.append(f"{where}: module {module} cannot be imported by Python 3.10 ({error!r})")
    return None


def other_bindings(tree):
    """Names bound by anything but an import: those shadow a module, their attributes are not checked."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def check_file(path, stdlib, problems):
    rel = path.relative_to(ROOT)
    source = path.read_bytes()
    try:
        compile(source, str(rel), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        problems.append(f"{rel}:{getattr(error, 'lineno', 0) or 0}: does not compile under Python 3.10: {error}")
        return
    tree = ast.parse(source, str(rel))
    bound = {}  # name -> the objects its stdlib imports bind (module, class...), for M.attr
    foreign = set()  # names bound by other imports (odoo, relative, guarded...)

    def bind(name, obj):
        objects = bound.setdefault(name, [])
        if not any(o is obj for o in objects):
            objects.append(obj)

    checked = set()
    for node in unguarded_nodes(tree):
        if isinstance(node, ast.Import):
            checked.add(node)
            for alias in node.names:
                if alias.name.split(".")[0] not in stdlib:
                    foreign.add(alias.asname or alias.name.split(".")[0])
                    continue
                module = load(alias.name, problems, f"{rel}:{node.lineno}")
                if module is not None:
                    name = alias.asname or alias.name.split(".")[0]
                    bind(name, module if alias.asname else importlib.import_module(name))
        elif isinstance(node, ast.ImportFrom):
            checked.add(node)
            if node.level or node.module.split(".")[0] not in stdlib:
                foreign.update(alias.asname or alias.name for alias in node.names)
                continue
            module = load(node.module, problems, f"{rel}:{node.lineno}")
            if module is None or node.module == "__future__":
                continue
            for alias in node.names:
                if alias.name == "*":
                    continue
                found, target = lookup(module, alias.name)
                if found:
                    bind(alias.asname or alias.name, target)
                else:
                    problems.append(f"{rel}:{node.lineno}: from {node.module} import {alias.name}: "
                                    f"{node.module}.{alias.name} does not exist in Python 3.10")
    for node in ast.walk(tree):  # imports under a guard bind names too
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node not in checked:
            foreign.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
    shadowed = other_bindings(tree)
    seen = set()
    for node in unguarded_nodes(tree):
        if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
            continue
        attrs = []
        root = node
        while isinstance(root, ast.Attribute):
            attrs.insert(0, root.attr)
            root = root.value
        if (not isinstance(root, ast.Name) or root.id in shadowed or root.id in foreign
                or len(bound.get(root.id, ())) != 1):
            continue
        missing = resolve(bound[root.id][0], attrs)
        if missing and (node.lineno, missing) not in seen:
            seen.add((node.lineno, missing))
            used = ".".join([root.id, *attrs])
            what = missing if used.startswith(missing) else f"{used}: {missing}"
            problems.append(f"{rel}:{node.lineno}: {what} does not exist in Python 3.10")


def inner():
    """Steps 1 and 2, run by the 3.10 interpreter: prints a JSON report."""
    stdlib = set(sys.stdlib_module_names) | set(json.load(sys.stdin)) | NEWER_STDLIB
    problems = []
    files = 0
    for path in python_files():
        files += 1
        found = []
        check_file(path, stdlib, found)
        problems += sorted(found, key=lambda line: int(line.split(":")[1]))
    print(json.dumps({"files": files, "problems": problems}))


# ---------------------------------------------------------------- outside


def is_python310(python):
    try:
        proc = subprocess.run([python, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 10))"],
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_python310():
    """(interpreter, None) or (None, why not)."""
    explicit = os.environ.get("PYTHON310")
    if explicit:
        if is_python310(explicit):
            return explicit, None
        return None, f"PYTHON310={explicit} is not a working Python 3.10 interpreter"
    candidates = [shutil.which("python3.10")]
    pyenv = glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python"))
    candidates += sorted(pyenv, key=lambda p: [int(n) for n in re.findall(r"\d+", Path(p).parents[1].name)],
                         reverse=True)
    candidates.append(sys.executable)
    for candidate in candidates:
        if candidate and is_python310(candidate):
            return candidate, None
    return None, "no Python 3.10 interpreter found (not python3.10 on PATH, nor ~/.pyenv/versions/3.10*)"


def last_line(text):
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def check_sources(python, problems):
    proc = subprocess.run([python, str(Path(__file__).resolve()), "--inner"], cwd=ROOT,
                          input=json.dumps(sorted(getattr(sys, "stdlib_module_names", ()))), capture_output=True,
                          text=True, check=False)
    try:
        report = json.loads(last_line(proc.stdout))
    except ValueError:
        problems.append(f"the source check crashed under {python}: {last_line(proc.stderr) or proc.returncode}")
        return 0
    problems.extend(report["problems"])
    return report["files"]


def test_environment(python, problems):
    """The Python of .local/py310-venv (made from ``python``, with the test packages), or None."""
    venv_python = VENV / "bin" / "python"
    probe = ["-c", "import pytest, dateutil, phonenumbers, sys; assert sys.version_info[:2] == (3, 10)"]
    if venv_python.exists() and not subprocess.run([str(venv_python), *probe], capture_output=True,
                                                   check=False).returncode:
        return str(venv_python)
    shutil.rmtree(VENV, ignore_errors=True)
    print(f"py310: making {VENV.relative_to(ROOT)} from {python} with {' '.join(TEST_PACKAGES)}", flush=True)
    steps = ([python, "-m", "venv", str(VENV)],
             [str(venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *TEST_PACKAGES])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode:
            problems.append(f"pytest (3.10): '{' '.join(step)}' failed: {last_line(done.stderr) or done.returncode}")
            return None
    return str(venv_python)


def run_engine_tests(python, problems):
    python = test_environment(python, problems)
    if not python:
        return ""
    proc = subprocess.run([python, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "tests"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    failures = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    problems.extend(f"pytest (3.10): {line}" for line in failures)
    summary = last_line(proc.stdout).strip("= ")
    if proc.returncode and not failures:
        problems.append(f"pytest (3.10): exit {proc.returncode}: {summary or last_line(proc.stderr)}")
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    if parser.parse_args().inner:
        inner()
        return 0
    started = time.monotonic()
    python, why_not = find_python310()
    if not python:
        if os.environ.get("CI") == "true":
            print(f"py310: {why_not}: CI=true requires the Python 3.10 check; {HOW_TO}")
            return 1
        print(f"python 3.10: not run, no interpreter on this machine ({why_not}); CI runs it")
        return 2
    problems = []
    files = check_sources(python, problems)
    tests = run_engine_tests(python, problems)
    for problem in problems:
        print(problem)
    took = time.monotonic() - started
    status = f"{len(problems)} problem(s)" if problems else "ok"
    print(f"py310: {status}: {files} files compiled and their stdlib imports checked, "
          f"engine tests: {tests or 'not run'} ({python}, {took:.1f}s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
