# cxloop — `make demo` to try it, `make test` to check it.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
PG_TEST_URL ?= postgresql://postgres:postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: install demo serve test test-sqlite test-postgres services lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

demo: install
	$(VENV)/bin/cxloop demo
	$(VENV)/bin/cxloop serve

serve: install
	$(VENV)/bin/cxloop serve

services:
	bash scripts/test-services.sh

# The whole suite, once on the embedded SQLite and once on PostgreSQL.
test: install services test-sqlite test-postgres

test-sqlite: install
	env -u CXLOOP_TEST_DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: install
	CXLOOP_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
