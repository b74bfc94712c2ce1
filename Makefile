# Build and test entry points. `make` alone lists the targets.
# Every target is idempotent: a second run does nothing and prints nothing it need not.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.requirements.stamp
NODE_STAMP := node_modules/.lock.stamp
VENDOR := app/static/vendor
VENDOR_STAMP := $(VENDOR)/.stamp
BPMN_DIST := node_modules/bpmn-js/dist
MO_FILES := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/*.po))
LINT_PATHS ?= .
CHROMIUM ?= /usr/bin/chromium
APT_GET ?= apt-get
PYTEST_ARGS ?=

export FLASK_APP := wsgi.py
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv assets db seed run test lint bench clean system-packages i18n

help: ## List the targets (default)
	@echo "Targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables: PYTEST_ARGS='-k name', LINT_PATHS='app tests', REQUIRE_BROWSER=1 (browser tests fail, not skip)"

venv: $(VENV_STAMP) ## Create .venv and install requirements-dev.txt (again only when a requirements file changed)
	@:

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@touch $@

assets: $(VENDOR_STAMP) $(MO_FILES) ## npm ci (when the lock changed), copy bpmn-js into app/static/vendor, compile translations
	@:

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR_STAMP): $(NODE_STAMP)
	@mkdir -p $(VENDOR)/bpmn-font/css $(VENDOR)/bpmn-font/font
	@cp $(BPMN_DIST)/bpmn-viewer.production.min.js $(BPMN_DIST)/assets/bpmn-js.css \
		$(BPMN_DIST)/assets/diagram-js.css $(VENDOR)/
	@cp $(BPMN_DIST)/assets/bpmn-font/css/*.css $(VENDOR)/bpmn-font/css/
	@cp $(BPMN_DIST)/assets/bpmn-font/font/* $(VENDOR)/bpmn-font/font/
	@echo "Copied bpmn-js $$(node -p 'require("./node_modules/bpmn-js/package.json").version') into $(VENDOR)/"
	@touch $@

%.mo: %.po | $(VENV_STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

db: $(VENV_STAMP) ## Apply the database migrations (flask db upgrade)
	$(BIN)/flask db upgrade

seed: db ## Load the demo users, roles and processes (flask seed-demo)
	$(BIN)/flask seed-demo

run: venv assets db seed ## Serve on http://127.0.0.1:5000 with the in-process scheduler (SCHEDULER_ENABLED=1)
	SCHEDULER_ENABLED=1 $(BIN)/flask run --host 127.0.0.1 --port 5000

# Debian's chromium (browser tests) and the PostgreSQL server (concurrency tests); CI runs as root.
system-packages:
	@pkgs=""; \
	if [ ! -x $(CHROMIUM) ]; then pkgs="chromium"; fi; \
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		pkgs="$$pkgs postgresql-server"; fi; \
	if [ -z "$$pkgs" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "NOTE: missing system packages ($$pkgs) and not root, so not installing them."; \
		echo "      Browser tests skip without $(CHROMIUM) (they fail instead when REQUIRE_BROWSER=1 or CI is set);"; \
		echo "      PostgreSQL tests fail without a server. As root: apt-get install -y chromium postgresql-15"; \
		exit 0; \
	fi; \
	echo "Installing system packages:$$pkgs"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$(APT_GET) update -qq; \
	pkgs="$${pkgs/postgresql-server/$$(apt-cache show postgresql-15 >/dev/null 2>&1 && echo postgresql-15 || echo postgresql)}"; \
	$(APT_GET) install -y -qq $$pkgs >/dev/null

test: venv assets system-packages ## Run the whole test suite (installs chromium and PostgreSQL first if missing)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

i18n: $(VENV_STAMP) ## Re-extract UI strings and update the catalogues (then translate the new entries)
	$(BIN)/pybabel -q extract -F babel.cfg -o app/translations/messages.pot --add-location=file --sort-output .
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

lint: $(VENV_STAMP) ## ruff check + ruff format --check (LINT_PATHS='...' to narrow)
	$(BIN)/ruff check --quiet $(LINT_PATHS)
	$(BIN)/ruff format --check --quiet $(LINT_PATHS)

bench: venv ## Run the benchmarks in bench/ (python -m bench, or each bench/*.py)
	@if [ -f bench/__main__.py ]; then \
		$(BIN)/python -m bench; \
	else \
		for f in bench/*.py; do \
			name=$$(basename "$$f" .py); \
			[ "$$name" = __init__ ] && continue; \
			echo "== bench.$$name"; \
			$(BIN)/python -m "bench.$$name"; \
		done; \
	fi

clean: ## Remove everything the targets made: .venv, node_modules, app/static/vendor, *.mo, caches
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .ruff_cache
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f $(MO_FILES)
