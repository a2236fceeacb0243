# `make run` and `make test` each do the whole set-up: virtualenv, install, database migration.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := attendance

.PHONY: run test bench setup translations

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed
	@$(BIN)/python -m attendance.syscheck
	$(BIN)/pybabel -q compile -d attendance/translations
	$(BIN)/flask db upgrade

# After changing user-facing text: extract it and merge it into the catalogues, then translate the new entries.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract --no-wrap -F babel.cfg -k _l -o attendance/translations/messages.pot .
	$(BIN)/pybabel -q update --no-wrap --no-fuzzy-matching -i attendance/translations/messages.pot -d attendance/translations

run: setup
	$(BIN)/flask seed-demo
	@echo "Serving on http://127.0.0.1:$(PORT)  (staff log in at http://127.0.0.1:$(PORT)/login)"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# SQLite always; PostgreSQL as well when TEST_DATABASE_URL is set.
test: setup
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the same suite on $${TEST_DATABASE_URL%%://*} =="; \
		$(BIN)/python -m pytest $(PYTEST_ARGS); \
	fi

# Speed and memory: prints a table of figures with ratios against floors measured in the same run.
bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)
