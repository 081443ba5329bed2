# kubetally: two commands. `make demo` runs the embedded default; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck imports unit bench screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kubetally needs Python >= 3.11 (found " + sys.version.split()[0] + ")")'
	@$(PYTHON) -m venv --help > /dev/null 2>&1 || { echo "python3 -m venv is missing: apt-get install python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: install
	$(BIN)/kubetally demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest

test: lint typecheck imports unit

bench: install
	$(BIN)/python -m benchmarks.run

# Refresh the README's screenshots from the UI's end-to-end tests.
screenshots: install
	KUBETALLY_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/ui

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis demo-data
