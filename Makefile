# collections_followup: developer commands. See README.md.
#
# Where Odoo 19 is:
#   ODOO_PYTHON  a Python that can `import odoo` (default: python3), or
#   ODOO_SRC     the Odoo 19 source folder holding odoo-bin (default: found from ODOO_PYTHON).
ODOO_PYTHON ?= python3
ODOO_SRC ?= $(shell $(ODOO_PYTHON) -c "import odoo, os; print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__path__[0] + '/__init__.py'))))" 2>/dev/null)
DB ?= collections_demo
PORT ?= 8069
ADDONS_PATH = $(ODOO_SRC)/addons,$(ODOO_SRC)/odoo/addons,$(CURDIR)
ODOO = $(ODOO_PYTHON) $(ODOO_SRC)/odoo-bin --addons-path=$(ADDONS_PATH)
export ODOO_PYTHON ODOO_SRC ADDONS_PATH

.PHONY: help doctor deps lint test-engine test-odoo test test-host py310 run reset dist pot bench

help:
	@echo "make run    demo database with overdue customers, served on http://127.0.0.1:$(PORT)"
	@echo "make test   lint + engine tests + Odoo test suite (fresh database, browser tours)"
	@echo "make test-host  Odoo's own sale/account tests with and without the addons (part of make test)"
	@echo "make py310  compile, stdlib names and engine tests under Python 3.10 (PYTHON310=/path/to/python3.10)"
	@echo "make doctor check Odoo 19, PostgreSQL, wkhtmltopdf, Chromium, websocket-client"
	@echo "make pot    export i18n/*.pot from the demo database (after changing a translatable text)"
	@echo "make bench  the daily run at 10k/100k and 20k/200k customers/invoices (SIZE=customers:invoices for one)"
	@echo "make dist   build the addons' wheels (odoo-addon-*) into dist/"
	@echo "make reset  drop the demo database ($(DB)) so that 'make run' recreates it"

doctor:
	@$(ODOO_PYTHON) tools/doctor.py

deps:
	@$(ODOO_PYTHON) -c "import phonenumbers, dateutil" 2>/dev/null || $(ODOO_PYTHON) -m pip install -q -r requirements.txt

lint:
	@$(ODOO_PYTHON) tools/run_tests.py --lint-only

test-engine:
	@$(ODOO_PYTHON) -m pytest -q tests

py310:
	@$(ODOO_PYTHON) tools/py310_check.py

test: doctor deps
	@$(ODOO_PYTHON) tools/run_tests.py

test-host: doctor deps
	@$(ODOO_PYTHON) tools/host_tests.py

run: doctor deps
	@if psql -lqt | cut -d'|' -f1 | grep -qw "$(DB)"; then \
		echo "Database $(DB) exists: reusing it ('make reset' to recreate)."; \
	else \
		echo "Creating database $(DB) with demo data, Invoicing and Sales (about 3 minutes)..."; \
		$(ODOO) -d $(DB) -i collections_followup,sale --with-demo --stop-after-init --log-level=warn --http-interface=127.0.0.1 || exit 1; \
	fi
	@echo ""
	@echo "  Open http://127.0.0.1:$(PORT)/odoo/action-collections_followup.action_collections_worklist"
	@echo "  Log in as admin / admin (collections manager), collector / collector, or sales / sales (salesperson)."
	@echo "  Customer portal: http://127.0.0.1:$(PORT)/my/collections as bluefjord / bluefjord (Blue Fjord Seafood)."
	@echo "  Stop with Ctrl+C."
	@echo ""
	@$(ODOO) -d $(DB) --http-interface=127.0.0.1 --http-port=$(PORT) --log-level=warn

pot: doctor
	@echo "Updating the addons in $(DB), then exporting their translation templates..."
	@$(ODOO) -d $(DB) -u collections_followup,collections_followup_sale --stop-after-init --log-level=warn
	@$(ODOO_PYTHON) tools/i18n.py export --db $(DB) --odoo-src $(ODOO_SRC) --addons-path $(ADDONS_PATH)

SIZE ?=
bench: doctor deps
	@$(ODOO_PYTHON) tools/bench.py $(if $(SIZE),--size $(SIZE))

dist:
	@$(ODOO_PYTHON) tools/dist.py build --out dist

reset:
	@dropdb --if-exists $(DB) && echo "Dropped $(DB)."
