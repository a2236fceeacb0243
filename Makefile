# `make run` and `make test` each do the whole set-up: virtualenv, install, database migration.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
LOCK   := requirements.lock
export FLASK_APP := attendance

.PHONY: run test bench setup translations lock lint

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml or the lock file changes: the exact versions (and hashes) of requirements.lock,
# then the app itself, editable; it fails, saying so, when pyproject.toml asks for something the lock lacks.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python .ci/lock_matches.py
	@touch $@

# Resolves pyproject.toml's ranges into $(LOCK), keeping the versions already locked; to take new releases on
# purpose: `make lock LOCK_ARGS=--upgrade` (all) or `LOCK_ARGS="--upgrade-package weasyprint"` (one), then run the tests.
# Extras stay in the lock (fonttools[woff]==...): without them, pip's hash-checking install took a dependency's
# `fonttools[woff]>=...` as unpinned as soon as a newer fonttools was released, and refused to install.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "pip-tools>=7.4"
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe --no-strip-extras --no-emit-index-url \
		--no-emit-find-links $(LOCK_ARGS) -o $(LOCK) pyproject.toml

setup: $(VENV)/.installed
	@$(BIN)/python -m attendance.syscheck
	$(BIN)/pybabel -q compile -d attendance/translations
	$(BIN)/flask db upgrade

# After changing user-facing text: extract it and merge it into the catalogues, then translate the new entries.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract --no-wrap -F babel.cfg -k _l -o attendance/translations/messages.pot .
	$(BIN)/pybabel -q update --no-wrap --no-fuzzy-matching -i attendance/translations/messages.pot -d attendance/translations

# The server and the job worker (mails, exports) in one process group: Ctrl-C stops both, and so does either's end.
# Links in mails point at this server unless PUBLIC_URL says otherwise.
run: setup
	$(BIN)/flask seed-demo --base-url http://127.0.0.1:$(PORT)
	@echo "Serving on http://127.0.0.1:$(PORT)  (staff log in at http://127.0.0.1:$(PORT)/login)"
	@echo "Job worker: 2 threads on instance/jobs.sqlite3 (JOBS_URL=redis://... in production)"
	@export PUBLIC_URL="$${PUBLIC_URL:-http://127.0.0.1:$(PORT)}"; trap 'kill 0 2>/dev/null' EXIT; \
	$(BIN)/huey_consumer attendance.jobs.worker.huey --workers 2 --worker-type thread --quiet & \
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Lint, formatting and types, as CI checks them; `$(BIN)/ruff format .` reformats, `$(BIN)/ruff check --fix .` fixes.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy attendance

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
