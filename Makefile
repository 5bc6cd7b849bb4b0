# Closeloop — `make run` serves the app with demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format lock bench clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/closeloop migrate --noinput
	$(BIN)/closeloop rebuild_deal_facts --stale-only
	$(BIN)/closeloop demo --if-empty
	$(BIN)/closeloop serve

test: $(STAMP)
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy closeloop config

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	{ echo "# Exact versions of every package Closeloop installs (runtime and development)."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable --exclude closeloop; } > requirements.lock

bench: $(STAMP)
	$(BIN)/python bench/board.py
	$(BIN)/python bench/analytics.py

clean:
	rm -rf $(VENV)
