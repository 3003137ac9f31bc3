# incidentkit: `make test` and `make report` each build the environment they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: env test lint typecheck unit captures figures clean

env: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check incidentkit tests
	$(BIN)/ruff format --check incidentkit tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

# The README's figures, drawn from the seed's log.
figures: $(STAMP)
	$(BIN)/python scripts/make_figures.py docs/img

# Re-record data/scenarios/ with real tools in network namespaces (root only).
captures:
	bash scripts/capture_scenarios.sh data/scenarios

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
