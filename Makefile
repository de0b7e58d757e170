# Two commands: `make run` (the demo) and `make test` (everything CI checks).
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help install system-deps test-deps env run demo-setup lint types migrations-check \
        test test-fast bench clean

help:
	@echo "make run   - the demo: SQLite, local media, a task worker, the Gupshup/CommBox simulator"
	@echo "make test  - lint, types, migrations check, the whole suite on PostgreSQL + Chromium"

# --- installation --------------------------------------------------------------
$(BIN)/.installed: pyproject.toml uv.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 ($(PYTHON)) is required"; exit 1; }
	@command -v uv >/dev/null || $(PYTHON) -m pip install --quiet uv
	uv sync --frozen --python "$$(command -v $(PYTHON))"
	@touch $@

install: $(BIN)/.installed

# Debian packages the tests need: PostgreSQL server and Chromium.
test-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi dejavu || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# A .env for the demo, with fresh keys, written once.
.env:
	$(PYTHON) scripts/write_env.py .env

env: .env

# --- the demo ------------------------------------------------------------------
run: install .env
	$(BIN)/python manage.py rundemo

# --- checks --------------------------------------------------------------------
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

types: install
	$(BIN)/mypy .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=gupshup_admin.settings_test

test: install test-deps lint types migrations-check
	scripts/with-postgres.sh $(BIN)/pytest -q

# Unit tests only, on SQLite (quick local loop; CI always runs `make test`).
test-fast: install
	$(BIN)/pytest -q -m "not e2e"

bench: install
	@echo "Benchmarks are in bench/ and print JSON; see README.md."

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache test-artifacts
