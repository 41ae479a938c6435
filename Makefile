# collections_followup: developer commands (make help). See README.md.
#
# Odoo 19 and PostgreSQL are found or set up by tools/setup_env.py before run, test and the other
# targets that need them; what it finds is written to .local/env.mk (git-ignored):
#   ODOO_PYTHON  a Python that imports Odoo 19 (yours when set; else python3 when it imports odoo;
#                else Odoo cloned from ODOO_REPO into .local/odoo and installed into .local/venv);
#   ODOO_SRC     the Odoo source folder holding odoo-bin (found from ODOO_PYTHON when not set);
#   ODOO_REPO    where to clone Odoo from (default: Odoo's public repository; a local path works);
#   PGHOST       the private PostgreSQL's socket folder, when no server accepted your connections.
# The workarounds Odoo's requirements need on a current Python (setuptools<70 without build isolation,
# psycopg2's binary wheel, no python-ldap) are in tools/setup_env.py with their reasons.
ODOO_PYTHON_GIVEN := $(ODOO_PYTHON)
ODOO_SRC_GIVEN := $(ODOO_SRC)
SETUP_GOALS := run test test-odoo test-host test-engine lint py310 bench bench-forecast pot deps dist soak
ifneq ($(filter $(SETUP_GOALS),$(MAKECMDGOALS)),)
SETUP_STATUS := $(shell ODOO_PYTHON="$(ODOO_PYTHON_GIVEN)" ODOO_SRC="$(ODOO_SRC_GIVEN)" python3 tools/setup_env.py env --out .local/env.mk 1>&2; echo $$?)
ifneq ($(SETUP_STATUS),0)
$(error Odoo or PostgreSQL could not be set up: see the lines above)
endif
endif
-include .local/env.mk
# What the tools and the programs they start (pylint, Chromium, fontconfig, pip) keep in a user's home folder goes
# into the clone's .local/ instead: make changes nothing outside the clone.
export XDG_CONFIG_HOME := $(CURDIR)/.local/config
export XDG_CACHE_HOME := $(CURDIR)/.local/cache
export PYLINTHOME := $(CURDIR)/.local/cache/pylint
export PIP_CACHE_DIR := $(CURDIR)/.local/pip-cache

ODOO_PYTHON ?= python3
ODOO_SRC ?= $(shell $(ODOO_PYTHON) -c "import odoo, os; print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__path__[0] + '/__init__.py'))))" 2>/dev/null)
DB ?= collections_demo
PORT ?= 8069
TAGS ?= /collections_followup
ADDONS_PATH = $(ODOO_SRC)/addons,$(ODOO_SRC)/odoo/addons,$(CURDIR)
DATA_DIR = $(CURDIR)/.local/odoo-data
ODOO_BIN = $(ODOO_PYTHON) $(ODOO_SRC)/odoo-bin --addons-path=$(ADDONS_PATH)
ODOO = $(ODOO_BIN) --data-dir=$(DATA_DIR)
export ODOO_PYTHON ODOO_SRC ADDONS_PATH

.PHONY: help doctor deps lint test-engine test-odoo test test-host py310 run stop reset clean-local dist pot bench bench-forecast soak

help:
	@echo "make run         demo database with overdue customers, served on http://127.0.0.1:$(PORT)"
	@echo "make test        lint, engine tests, the Odoo suite with browser tours on a fresh database, crash tests"
	@echo "make test-odoo TAGS=/collections_followup:TestFollowupRun"
	@echo "                 Odoo tests by tag on a database kept between runs (about a minute for one class)"
	@echo "make test-engine the engine's pytest suite only (seconds)"
	@echo "make lint        ruff, pylint-odoo, XML/CSV, generated README, Python 3.10"
	@echo "make test-host   Odoo's own sale/account tests with and without the addons (part of make test)"
	@echo "make py310       compile, stdlib names and engine tests under Python 3.10 (PYTHON310=/path/to/python3.10)"
	@echo "make doctor      what is missing (Odoo 19, PostgreSQL, wkhtmltopdf, Chromium) and what each disables"
	@echo "make deps        the Python packages of requirements.txt and requirements-dev.txt (into .local only)"
	@echo "make pot         export i18n/*.pot from the demo database (after changing a translatable text)"
	@echo "make bench-forecast  the cash forecast's accuracy (12-month backtest) and speed on books of paid histories,"
	@echo "                 then the product's own in Odoo on a 10k/100k book (ODOO_SIZE=customers:invoices, 0 to skip)"
	@echo "make bench       the daily run at 10k/100k and 20k/200k customers/invoices (SIZE=customers:invoices for one,"
	@echo "                 PDF=n customers in the sample with invoice PDFs, default 100)"
	@echo "make soak        the ledger invariant on ROUNDS random books of STEPS steps each (default 100 x 200 = 20,000"
	@echo "                 steps, hours on 2 cores; SEED=first seed; BOOKS=5 books per Odoo process), each process's"
	@echo "                 seeds, steps and seconds by road printed"
	@echo "make dist        build the addons' wheels (odoo-addon-*) into dist/"
	@echo "make reset       drop the demo database ($(DB)) so that 'make run' recreates it"
	@echo "make stop        stop the private PostgreSQL of .local/ (when make started one)"
	@echo "make clean-local stop it and remove .local/ (the Odoo and PostgreSQL make set up)"

doctor:
	@$(ODOO_PYTHON) tools/doctor.py

deps:
	@$(ODOO_PYTHON) tools/setup_env.py deps

lint:
	@$(ODOO_PYTHON) tools/run_tests.py --lint-only

test-engine:
	@$(ODOO_PYTHON) -m pytest -q tests

test-odoo: doctor
	@$(ODOO_PYTHON) tools/run_tests.py --odoo-tags "$(TAGS)"

py310:
	@$(ODOO_PYTHON) tools/py310_check.py

test: deps doctor
	@$(ODOO_PYTHON) tools/run_tests.py

test-host: deps doctor
	@$(ODOO_PYTHON) tools/host_tests.py

run:
	@$(ODOO_PYTHON) tools/doctor.py run
	@$(ODOO_PYTHON) tools/setup_env.py deps --runtime
	@state=0; $(ODOO_PYTHON) tools/setup_env.py db-exists "$(DB)" || state=$$?; \
	if [ $$state = 0 ]; then \
		echo "Database $(DB) exists: reusing it ('make reset' to recreate)."; \
	elif [ $$state = 3 ]; then \
		echo "Database $(DB) exists without collections_followup installed (a 'make run' stopped while it installed?)."; \
		echo "'make reset' drops it (make run then creates it again), or choose another: make run DB=name."; \
		exit 1; \
	else \
		echo "Creating database $(DB) with demo data, Invoicing, Sales and Odoo's demo payment provider (about 5 minutes)..."; \
		$(ODOO) -d $(DB) -i collections_followup,sale,payment_demo --with-demo --stop-after-init --log-level=warn --http-interface=127.0.0.1 || exit 1; \
	fi
	@echo ""
	@echo "  Open http://127.0.0.1:$(PORT)/odoo/action-collections_followup.action_collections_worklist"
	@echo "  Log in as admin / admin (collections manager), collector / collector, or sales / sales (salesperson)."
	@echo "  Customer portal: http://127.0.0.1:$(PORT)/my/collections as bluefjord / bluefjord (Blue Fjord Seafood)."
	@echo "  Stop with Ctrl+C."
	@echo ""
	@$(ODOO) -d $(DB) --http-interface=127.0.0.1 --http-port=$(PORT) --log-level=warn & server=$$!; \
	trap 'kill -INT $$server 2>/dev/null; wait $$server; exit 0' INT TERM; \
	$(ODOO_PYTHON) tools/demo_documents.py --db $(DB) --url http://127.0.0.1:$(PORT) --odoo-src $(ODOO_SRC); \
	wait $$server

stop:
	@python3 tools/setup_env.py stop

clean-local: stop
	@rm -rf .local && echo "Removed .local/."

pot: doctor
	@echo "Updating the addons in $(DB), then exporting their translation templates..."
	@$(ODOO) -d $(DB) -u collections_followup,collections_followup_sale,collections_followup_snailmail --stop-after-init --log-level=warn
	@$(ODOO_PYTHON) tools/i18n.py export --db $(DB) --odoo-src $(ODOO_SRC) --addons-path $(ADDONS_PATH)

SIZE ?=
bench: deps doctor
	@$(ODOO_PYTHON) tools/bench.py $(if $(SIZE),--size $(SIZE)) $(if $(PDF),--pdf-customers $(PDF))

bench-forecast: deps doctor
	@$(ODOO_PYTHON) tools/bench_forecast.py $(if $(SIZE),--size $(SIZE)) $(if $(ODOO_SIZE),--odoo-size $(ODOO_SIZE))

ROUNDS ?= 100
STEPS ?= 200
SEED ?= 20261207
# Books per Odoo process: a process's books share one transaction (each rolled back to a savepoint); a killed soak
# loses one process's books. A soak of 25 books in one process went from 69 s a book to 8 minutes by the 25th: most
# likely the empty-page statistics below (found later), not measured again since.
# Before each process the test database is vacuumed: a process's rows are never committed; once it ends,
# autovacuum removes them, and when it runs while the next process holds the tables it cannot give back their pages
# and records them as empty pages (no rows in 55 pages of journal items): PostgreSQL then plans every query of the
# next processes for empty tables (one of Odoo's payment queries ran for minutes). VACUUM with nobody on the tables
# gives the pages back.
BOOKS ?= 5
soak: doctor
	@first=$(SEED); last=$$(( $(SEED) + $(ROUNDS) - 1 )); \
	while [ $$first -le $$last ]; do \
		count=$$(( last - first + 1 )); [ $$count -gt $(BOOKS) ] && count=$(BOOKS); \
		echo "soak: books $$first to $$(( first + count - 1 )), $(STEPS) steps each"; \
		psql -d $${TEST_DB:-collections_test_loop} -qc VACUUM 2>/dev/null || true; \
		COLLECTIONS_LEDGER_ROUNDS=$$count COLLECTIONS_LEDGER_STEPS=$(STEPS) COLLECTIONS_LEDGER_SEED=$$first \
			COLLECTIONS_LEDGER_SCREENS_EVERY=10 \
			$(ODOO_PYTHON) tools/run_tests.py --odoo-tags "/collections_followup:TestLedgerRoads" || exit 1; \
		grep -o "ledger roads: seeds.*" odoo-test.log; \
		first=$$(( first + count )); \
	done

dist:
	@$(ODOO_PYTHON) tools/dist.py build --out dist

reset:
	@$(ODOO_BIN) db --data-dir=$(DATA_DIR) drop $(DB) 2>/dev/null && echo "Dropped $(DB)." || echo "No database $(DB)."
