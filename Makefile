# Two commands: `make run` serves the portal with the 2024 plan and demo progress;
# `make test` runs the whole suite (on PostgreSQL when DATABASE_URL is set).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
WORKERS ?= 2
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py

.PHONY: run dev test lint serve setup clean bench bench-exports audit faults

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "需要 Python 3.11 或更高版本（当前 %s）" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The locks are pip-compile output with hashes: every machine installs the same files.
$(VENV)/.run-deps: requirements/base.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/base.txt
	@touch $@

$(VENV)/.test-deps: requirements/test.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	@touch $@ $(VENV)/.run-deps

# `make run` serves as production does: DEBUG off (the portal's own Chinese 404, 403 and 500
# pages, with the same headers and Content-Security-Policy as every page), a secret key of its
# own, static files through whitenoise. The key is generated once into $(SECRET_KEY_FILE)
# (readable by its owner only) unless DJANGO_SECRET_KEY is set. The demo's office account
# need not enrol a phone here (OTP_REQUIRED_FOR_COORDINATOR=true turns that on, as production
# has it). `make dev` runs Django's development server with DEBUG on instead.
SECRET_KEY_FILE ?= var/secret_key
SERVE_ENV = DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(SECRET_KEY_FILE))}" \
	OTP_REQUIRED_FOR_COORDINATOR="$${OTP_REQUIRED_FOR_COORDINATOR:-false}"

$(SECRET_KEY_FILE): | $(BIN)/python
	@mkdir -p $(dir $@)
	@umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' >$@.tmp
	@mv $@.tmp $@

SECRET_KEY_DEP = $(if $(DJANGO_SECRET_KEY),,$(SECRET_KEY_FILE))

# Static files are collected as the server will serve them (hashed names, compressed: DEBUG off).
setup: $(VENV)/.run-deps $(SECRET_KEY_DEP)
	$(MANAGE) migrate --noinput
	$(MANAGE) load_plan 2024
	$(MANAGE) load_demo
	$(SERVE_ENV) $(MANAGE) collectstatic --noinput --verbosity 0

run: setup
	@echo ""
	@echo "瑶海区民生实事进度公开平台：http://127.0.0.1:$(PORT)/"
	@echo "管理后台：http://127.0.0.1:$(PORT)/$${ADMIN_URL:-admin/}（演示账号见上方）"
	@echo "按 Ctrl+C 停止。"
	@$(MAKE) --no-print-directory serve

# Serves what `make setup` prepared, as `make run` does, without setting up again.
serve: $(VENV)/.run-deps $(SECRET_KEY_DEP)
	$(SERVE_ENV) exec $(BIN)/gunicorn yaohai_portal.wsgi --config deploy/gunicorn.conf.py \
		--bind 127.0.0.1:$(PORT) --workers $(WORKERS)

dev: setup
	DJANGO_DEBUG=true $(MANAGE) runserver 127.0.0.1:$(PORT)

test: $(VENV)/.test-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# The public pages under load at ten plan years of data, on SQLite and PostgreSQL, cached and
# not (bench/run.py says how; needs wrk). BENCH_ARGS="--databases sqlite --repeat 1" is quicker.
bench: $(VENV)/.run-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The summary and all-figures exports at ten plan years of data, against openpyxl's write-only
# floor, each run under /usr/bin/time -v (bench/exports.py says how; needs Debian's `time`).
# BENCH_EXPORTS_ARGS="--databases sqlite --repeat 1" is quicker.
bench-exports: $(VENV)/.run-deps
	$(BIN)/python bench/exports.py $(BENCH_EXPORTS_ARGS)

# Known vulnerabilities in the locked dependencies, by pip-audit (.ci/audit.py says how it tells
# "clean" from "could not be asked"; AUDIT_STRICT=1 makes the latter an error).
audit: $(VENV)/.test-deps
	$(BIN)/python .ci/audit.py

# The proof of issue 7 (docs/reliability.md): a gunicorn worker killed under load, the database
# restarted while serving, imports killed half-way and out of disk (bench/faults.py), then the
# public page mix at 50 connections on PostgreSQL (bench/load.py). About 10 minutes; needs wrk,
# root (a small tmpfs; a throwaway PostgreSQL cluster run as the `postgres` user) and the
# PostgreSQL server on 127.0.0.1:5432 (temporary databases only). Both run; either failing fails.
# FAULTS_ARGS="--scenarios db-restart", LOAD_ARGS="--scale '--years 2' --repeat 1" are quicker.
faults: $(VENV)/.run-deps
	@status=0; \
	$(BIN)/python bench/faults.py $(FAULTS_ARGS) || status=1; \
	$(BIN)/python bench/load.py $(LOAD_ARGS) || status=1; \
	exit $$status

# Style, formatting, and which way imports may run ([tool.importlinter] in pyproject.toml).
lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
