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
	@echo "按 Ctrl+C 停止（网站和后台任务进程一并停止）。"
	@$(MAKE) --no-print-directory serve

# Serves what `make setup` prepared, as `make run` does, without setting up again: gunicorn and
# beside it the task worker (`manage.py db_worker`, every queue: the page warm-up after each
# publication, reminder mails; docs/deploy.md). If the worker dies, gunicorn goes on serving
# (pages are then rendered on request, queued mail waits). SIGINT, SIGTERM or SIGHUP to the
# recipe's shell (Ctrl+C; make passes SIGTERM on) is handed to gunicorn as `exec` used to; once
# gunicorn has stopped, the worker gets one SIGTERM and finishes the task it is running. The
# worker runs in a process group of its own (POSIX setpgid, as util-linux's setsid does; macOS
# has no setsid), so that Ctrl+C or a signal to make's process group reaches it only through
# the shell: a second signal would make db_worker abandon its task half done.
OWN_PROCESS_GROUP = $(BIN)/python -c 'import os, sys; os.setpgid(0, 0); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])'
serve: $(VENV)/.run-deps $(SECRET_KEY_DEP)
	@export $(SERVE_ENV); \
	trap 'kill -INT $$server 2>/dev/null' INT; \
	trap 'kill -TERM $$server 2>/dev/null' TERM HUP; \
	$(OWN_PROCESS_GROUP) manage.py db_worker --queue-name '*' --no-reload & worker=$$!; \
	echo "后台任务进程已启动（db_worker，PID $$worker）：发布后预热页面、发送催报邮件。"; \
	$(BIN)/gunicorn yaohai_portal.wsgi --config deploy/gunicorn.conf.py \
		--bind 127.0.0.1:$(PORT) --workers $(WORKERS) & server=$$!; \
	wait $$server; status=$$?; \
	while kill -0 $$server 2>/dev/null; do wait $$server; status=$$?; done; \
	kill -TERM $$worker 2>/dev/null && wait $$worker; \
	echo "网站和后台任务进程已停止。"; \
	exit $$status

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
