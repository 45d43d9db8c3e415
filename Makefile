# Balise — the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9

export TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/balise_test
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run install test test-sqlite test-postgres lint typecheck fmt migrate bench bench-deps system-deps lock audit clean schema

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)" || $(BIN)/python -m pip install --quiet "uv"
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

## Serve the demo on http://127.0.0.1:8000 (migrates and loads the demo on first run).
run: $(STAMP)
	@[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || $(MAKE) --no-print-directory system-deps
	$(BIN)/balise up

migrate: $(STAMP)
	$(BIN)/balise migrate

## System packages from Debian: Chromium for the browser tests (never a test tool's own
## download) and the DejaVu fonts the PDF reports embed.
system-deps:
	@missing=""; [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	 [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	 if [ -n "$$missing" ]; then \
	   echo "Installing from Debian's packages:$$missing"; \
	   SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	   $$SUDO apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	 fi
	@/usr/bin/chromium --version

## The whole suite on SQLite, then on PostgreSQL + Redis.
test: $(STAMP) system-deps
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: $(STAMP)
	BALISE_TEST_DB=sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres: $(STAMP)
	BALISE_TEST_DB=postgres $(BIN)/pytest -q -p no:cacheprovider -m "not e2e"

lint: $(STAMP)
	$(BIN)/ruff check shared services tests bench migrations/env.py
	$(BIN)/ruff format --check shared services tests bench migrations/env.py
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format shared services tests bench migrations/env.py
	$(BIN)/ruff check --fix shared services tests bench migrations/env.py

## Security audit of the locked dependencies (queries the PyPI advisory data): fails on a
## known vulnerability, and (strict) on a package it could not look up. CI runs
## `.ci/audit.py` without --strict: unreachable advisories are reported, not fatal.
audit: $(STAMP)
	$(BIN)/python .ci/audit.py --strict

## Benchmarks: each prints `BENCH <name> value=… baseline=… ratio=… target=…`.
bench: $(STAMP) system-deps bench-deps
	$(BIN)/python -m bench

## wrk, the load generator of the HTTP benchmarks, from Debian's packages.
bench-deps:
	@command -v wrk >/dev/null || { \
	   echo "Installing from Debian's packages: wrk"; \
	   SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	   $$SUDO apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	@command -v wrk

## Regenerate the initial migration from the models. Only while no database has been
## deployed from this history; afterwards add revisions with `alembic revision --autogenerate`.
schema: $(STAMP)
	@tmp=$$(mktemp -d); cp migrations/versions/0001_initial_schema.py $$tmp/old.py 2>/dev/null; \
	 rm -f migrations/versions/0001_initial_schema.py; \
	 DATABASE_URL="sqlite+aiosqlite:///$$tmp/schema.db" $(BIN)/alembic revision --autogenerate -m "initial schema" --rev-id 0001 >/dev/null && \
	 DATABASE_URL="sqlite+aiosqlite:///$$tmp/schema.db" $(BIN)/alembic upgrade head >/dev/null && \
	 DATABASE_URL="sqlite+aiosqlite:///$$tmp/schema.db" $(BIN)/alembic check; rc=$$?; \
	 if [ -f $$tmp/old.py ] && diff -q <(grep -v '^Create Date' $$tmp/old.py) \
	      <(grep -v '^Create Date' migrations/versions/0001_initial_schema.py) >/dev/null; then \
	   cp $$tmp/old.py migrations/versions/0001_initial_schema.py; fi; \
	 rm -rf $$tmp; exit $$rc

lock:
	$(BIN)/uv pip compile pyproject.toml --extra test --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
