# GenXSOP developer commands. `make help` lists them; `make run` and `make test` are all most people need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
PYTEST_ARGS ?=

.PHONY: help install install-dev run serve migrate demo test test-postgres lint security format migrations-check check clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamp files: pip runs again only when a requirements file is newer than the last install.
$(VENV)/.installed-base: requirements/base.txt | $(PY)
	$(PIP) -r requirements/base.txt
	@touch $@

$(VENV)/.installed-dev: requirements/base.txt requirements/dev.txt | $(PY)
	$(PIP) -r requirements/dev.txt
	@touch $@

install: $(VENV)/.installed-base ## Create .venv and install the runtime requirements

install-dev: $(VENV)/.installed-dev ## Create .venv and install the runtime and development requirements

run: install ## Start GenXSOP on http://127.0.0.1:8000: migrate, demo data, web server and job worker (SQLite by default)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_demo
	LOG_FORMAT=$${LOG_FORMAT:-standard} $(PY) manage.py serve --host $(HOST) --port $(PORT)

serve: install ## Start the web server and job worker without migrating or loading data
	LOG_FORMAT=$${LOG_FORMAT:-standard} $(PY) manage.py serve --host $(HOST) --port $(PORT)

migrate: install ## Apply the database migrations
	$(PY) manage.py migrate --noinput

demo: install ## Load the demo data set (idempotent)
	$(PY) manage.py load_demo

test: install-dev ## Run the whole test suite (SQLite unless DATABASE_URL says otherwise)
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install-dev ## Run the whole test suite on PostgreSQL (DATABASE_URL, default the local server)
	DATABASE_URL=$${DATABASE_URL:-$(POSTGRES_URL)} $(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev ## Lint and check formatting (ruff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

security: install-dev ## Security gates: ruff S rules, bandit, secrets scan, dependency audit (SECURITY.md)
	bash .ci/security

format: install-dev ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install-dev ## Fail when a model change has no migration
	$(PY) manage.py makemigrations --check --dry-run

check: install ## Django system checks
	$(PY) manage.py check

clean: ## Remove the virtual environment, collected static files and tool caches (keeps the database)
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
