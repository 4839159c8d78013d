# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The address of every link `make run` prints, the demo commands' included; set it to another
# (a proxy or tunnel in front) in the environment.
OMS_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test test-fast worker webhook-worker beat bench lint fmt migrate demo clean messages lock

# Dependencies are declared once, in pyproject.toml; the lock files pin every package, transitive
# ones included, to an exact version and its hashes. The venv installs only from the lock.
LOCK := requirements-dev.lock
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-trusted-host --no-emit-find-links $(LOCK_ARGS)

$(STAMP): $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	touch $(STAMP)

# Regenerate both lock files after a change to the dependencies in pyproject.toml. Versions
# already locked are kept; `make lock LOCK_ARGS=--upgrade` (or `--upgrade-package NAME`) moves them.
lock: $(STAMP)
	$(PIP_COMPILE) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint requirements.lock --output-file $(LOCK) pyproject.toml

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

# Each app seeds its own demo, in the order of the app graph (core first).
DEMO_SEEDS := seed_demo seed_routing_demo seed_channels_demo seed_groupbuy_demo seed_services

demo run: export OMS_PUBLIC_BASE_URL := $(OMS_PUBLIC_BASE_URL)

demo: migrate
	@for seed in $(DEMO_SEEDS); do $(PY) manage.py $$seed || exit 1; done

# runserver is the project's (oms/embedded): WhiteNoise serves the static files, and without a
# broker the periodic jobs (SLA checks, sweepers, step retries) run in the server's process.
run: demo
	@echo ""
	@echo "  OMS is starting on $(OMS_PUBLIC_BASE_URL)/"
	@echo "  Admin:      $(OMS_PUBLIC_BASE_URL)/admin/   login: admin / oms-demo-2026   (ops staff: ops / oms-demo-2026)"
	@echo "  API docs:   $(OMS_PUBLIC_BASE_URL)/api/docs/   demo API key: oms_demo_homeliving_key"
	@echo "  Staff:      $(OMS_PUBLIC_BASE_URL)/ops/dashboard/  and  /ops/sla/   (status-page links printed above)"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(PY) -m pytest

worker: $(STAMP)
	$(VENV)/bin/celery -A oms worker -B -Q oms --loglevel=INFO

# Webhook deliveries have a queue and a worker of their own: a hanging merchant endpoint holds
# up only other deliveries, never routing or service steps.
webhook-worker: $(STAMP)
	$(VENV)/bin/celery -A oms worker -Q webhooks --concurrency 4 --hostname webhooks@%h --loglevel=INFO

bench: $(STAMP)
	$(PY) bench/run_all.py

# Stops at the first failure. makemigrations reads no database: an in-memory SQLite one is enough.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(STAMP)
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache
