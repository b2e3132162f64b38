# Two commands matter: `make demo` and `make test`. Everything else is their plumbing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages the project needs at run time (WeasyPrint) and for its tests.
APT_RUNTIME := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libharfbuzz0b fontconfig
APT_TEST := chromium poppler-utils

.PHONY: lock demo test install system-deps system-deps-test lint layers typecheck format migrations-check pytest ci-services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Exactly the versions in requirements.lock (resolved from pyproject.toml by `make lock`), then
# the project itself without resolving anything again.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve the lock after changing pyproject.toml's dependencies (Python 3.11, Linux).
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu --quiet -o requirements.lock

install: system-deps $(STAMP)

# Installs what is missing, only what is missing (root on Debian; sudo elsewhere).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

system-deps:
	$(call apt_install,$(APT_RUNTIME))

system-deps-test:
	$(call apt_install,$(APT_TEST))

# Links in the demo's e-mails point at the address it serves (`make demo PORT=8123`); a
# PORTAL_BASE_URL given on the command line wins.
demo: export PORTAL_BASE_URL = http://$(HOST):$(PORT)
demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Portal: http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(BIN)/python manage.py run_portal $(HOST):$(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The one direction of the house (DESIGN §2): import-linter's layers contract in pyproject.toml.
layers: $(STAMP)
	$(BIN)/lint-imports

# Types of the pure rule modules (strict) and the services (pyproject.toml [tool.mypy]).
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: $(STAMP)
	tmp=$$(mktemp -d) && DATABASE_URL="sqlite:///$$tmp/check.sqlite3" \
	  $(BIN)/python manage.py makemigrations --check --dry-run; rc=$$?; rm -rf "$$tmp"; exit $$rc

# The browser tests (Chromium) run in a process of their own, after the rest.
pytest: $(STAMP)
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

test: install system-deps-test lint layers typecheck migrations-check pytest

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
