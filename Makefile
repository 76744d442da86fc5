# Passnum — two commands: `make run [PORT=8000]` (the platform on the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# The test suite runs on real PostgreSQL and Redis (overridable from the environment).
TEST_ENV = PASSNUM_ENV=test \
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/passnum} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/1} \
	CELERY_TASK_ALWAYS_EAGER=1

.PHONY: install run test lint bench demo services system-packages

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.built: node_modules/.installed scripts/build_static.py
	$(PY) scripts/build_static.py
	touch $@

install: $(VENV)/.installed static/vendor/.built
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules --ignore=var -v 0

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_territories
	$(PY) manage.py demo --base-url http://127.0.0.1:$(PORT)
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

services:
	bash scripts/ensure_services.sh

system-packages:
	bash scripts/ensure_system_packages.sh

lint: install
	$(VENV)/bin/ruff check .
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(PY) manage.py check --fail-level WARNING

# The embedded default (what `make run` serves): SQLite in a temporary data folder, no Redis,
# tasks in-process. Only tests/embedded/ runs there (tests/conftest.py picks by database).
EMBEDDED_ENV = env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u CELERY_TASK_ALWAYS_EAGER PASSNUM_ENV=test

test: system-packages install services lint
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)
	data=$$(mktemp -d) && trap 'rm -rf "$$data"' EXIT && \
		$(EMBEDDED_ENV) PASSNUM_DATA_DIR="$$data" $(PY) -m pytest tests/embedded

bench: system-packages install services
	$(PY) -m bench
