# Two commands for a newcomer: `make demo` and `make test`. Both build .venv first and are
# quick when nothing changed (the venv is rebuilt only when pyproject.toml changes).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv demo test lint typecheck contracts format serve bench clean

help:
	@echo "make demo    set up and run the main job on the embedded Argyll and Bute default"
	@echo "make test    set up and run lint, type-check, import contracts and the whole test suite"
	@echo "make lint    ruff + mypy + import contracts"
	@echo "make serve   run the REST API on http://127.0.0.1:8000 (docs at /docs)"
	@echo "make bench   run the benchmarks and write benchmarks/results/"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "carealloc needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/carealloc demo --out out

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/pytest

serve: $(STAMP)
	$(BIN)/carealloc serve

bench: $(STAMP)
	$(BIN)/carealloc bench all

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache out
