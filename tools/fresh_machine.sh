#!/usr/bin/env bash
# A newcomer's first hour, replayed: `make run` then `make test` in a new empty directory, with a clean
# HOME, no Odoo importable, no PostgreSQL running, as a normal user; Odoo cloned from ODOO_REPO. Fails when
# anything outside the clone changed: every interpreter's packages (PATH and pyenv) and the home folder's
# files are listed before and after.
# Run by a developer (not by make test), e.g. before changing the set-up:
#
#     ODOO_REPO=/path/to/a/local/odoo/clone [PYTHON_DIR=/folder/with/python3] tools/fresh_machine.sh [--run-only]
#
# PYTHON_DIR: a folder put first on the newcomer's PATH, to replay with another python3 than the
# system's (make test's Python 3.10 check needs a 3.10: on a machine whose python3 is 3.10 it is that one).
# Run as root, it stops the system's PostgreSQL clusters for the duration (and starts them again at
# the end), creates the user `cfnewcomer` when missing and replays the newcomer's steps as that user.
# Prints each step with the time it took; exits non-zero when a step fails.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
ODOO_REPO="${ODOO_REPO:?set ODOO_REPO to a git URL or a local clone of Odoo 19}"
RUN_ONLY="${1:-}"
NEWCOMER=cfnewcomer

if [ "$(id -u)" = 0 ]; then
    id "$NEWCOMER" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$NEWCOMER"
    stopped=()
    if command -v pg_lsclusters >/dev/null; then
        while read -r version name _port status _rest; do
            if [ "$status" = online ]; then
                pg_ctlcluster "$version" "$name" stop
                stopped+=("$version $name")
            fi
        done < <(pg_lsclusters --no-header)
    fi
    restart() {
        for cluster in "${stopped[@]}"; do
            # shellcheck disable=SC2086
            pg_ctlcluster $cluster start || true
        done
    }
    # The newcomer clones repositories another user owns (this one, a local Odoo clone): git refuses
    # that ("dubious ownership") unless told otherwise, which a clone from a server never needs.
    gitconfig="$(mktemp /tmp/cf_fresh_gitconfig.XXXXXX)"
    printf '[safe]\n\tdirectory = *\n' > "$gitconfig"
    chmod a+r "$gitconfig"
    trap 'restart; rm -f "$gitconfig"' EXIT
    set +e
    runuser -u "$NEWCOMER" -- env -i PATH="${PYTHON_DIR:+$PYTHON_DIR:}/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 \
        GIT_CONFIG_GLOBAL="$gitconfig" ODOO_REPO="$ODOO_REPO" bash "$0" $RUN_ONLY
    status=$?
    set -e
    exit $status
fi

step() {  # step NAME COMMAND...: run it, print its duration
    local name="$1"; shift
    local started; started=$(date +%s)
    echo "=== $name"
    if "$@"; then
        echo "=== $name: ok in $(( $(date +%s) - started )) s"
    else
        local code=$?
        echo "=== $name: FAILED (exit $code) after $(( $(date +%s) - started )) s"
        exit $code
    fi
}

WORK="$(mktemp -d /tmp/cf_fresh.XXXXXX)"
export HOME="$WORK/home"
mkdir -p "$HOME"
cd "$WORK"
echo "fresh directory: $WORK (HOME=$HOME), user $(id -un), $(python3 --version), $(git --version)"
if python3 -c "import odoo" 2>/dev/null; then echo "odoo is importable: not a fresh machine"; exit 1; fi
if command -v pg_isready >/dev/null && pg_isready -q; then echo "PostgreSQL is running: not a fresh machine"; exit 1; fi
echo "checks: no Odoo importable by python3, no PostgreSQL answering"

interpreters() {  # every Python the newcomer has: on PATH, and pyenv's
    local name
    { for name in $(compgen -c python3 | grep -E '^python3(\.[0-9]+)?$' | sort -u); do command -v "$name"; done
      ls -d "$HOME"/.pyenv/versions/*/bin/python 2>/dev/null; } | sort -u
}
packages() {  # each interpreter's installed distributions, and every file of the newcomer's home
    for python in $(interpreters); do
        echo "== $python ($("$python" --version 2>&1))"
        "$python" -c "import importlib.metadata as m; print('\n'.join(sorted(f'{d.metadata[\"Name\"]}=={d.version}' for d in m.distributions())))"
    done
    echo "== files in $HOME"
    find "$HOME" -type f -o -type l | sort
}
packages > "$WORK/before.txt"
echo "interpreters: $(interpreters | tr '\n' ' ')($(grep -c '==' "$WORK/before.txt") packages in all)"

step "git clone the project" git clone --quiet "$REPO" collections
cd collections

run_and_stop() {  # make run until the demo answers on 127.0.0.1:8069, then stop it (Ctrl+C)
    # In a process group of its own, stopped as Ctrl+C stops it: SIGINT to the whole group (a command started
    # with & ignores SIGINT, so signalling make alone would leave the server running).
    setsid make run > make-run.log 2>&1 &
    local pid=$! waited=0
    until curl -fs -o /dev/null http://127.0.0.1:8069/web/login; do
        if ! kill -0 "$pid" 2>/dev/null; then tail -40 make-run.log; return 1; fi
        sleep 5; waited=$((waited + 5))
        if [ $waited -gt 3600 ]; then tail -40 make-run.log; kill "$pid"; return 1; fi
    done
    # The newcomer reads what make run prints before pressing Ctrl+C: the demo's documents come after the
    # server answers (tools/demo_documents.py).
    waited=0
    until grep -qE "Done: Meridian|demo documents:|Stopped before" make-run.log || [ $waited -gt 300 ]; do
        sleep 2; waited=$((waited + 2))
    done
    grep -E "Log in as|Customer portal|Open http|Done: Meridian|demo documents:" make-run.log || true
    curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d '{"jsonrpc":"2.0","params":{"db":"collections_demo","login":"collector","password":"collector"}}' \
        http://127.0.0.1:8069/web/session/authenticate && echo "login collector/collector: ok"
    kill -INT -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if pgrep -g "$pid" >/dev/null; then echo "make run did not stop on Ctrl+C"; return 1; fi
    grep "^\[setup\]" make-run.log | tail -20
}
step "make run (set-up, demo database, server answering)" run_and_stop
if [ "$RUN_ONLY" != "--run-only" ]; then
    step "make test" bash -c "set -o pipefail; make test 2>&1 | tail -30"
fi
step "make stop" make stop
packages > "$WORK/after.txt"
if diff -u "$WORK/before.txt" "$WORK/after.txt"; then
    echo "outside the clone: nothing changed (the interpreters' packages and the home folder, before = after)"
else
    echo "outside the clone: CHANGED (the diff above)"
    exit 1
fi
echo "done: $WORK"
