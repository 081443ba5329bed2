# kubetally: two commands. `make demo` runs the embedded default; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck imports unit bench screenshots clean focus-validator image

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

unit: install focus-validator
	$(BIN)/pytest

# The official FOCUS validator (tests/focus_export checks every export with it) needs Python >= 3.12: it gets its
# own venv. 3.12 comes first because the validator pins numpy < 2, which has no wheels for 3.13; pyarrow < 22 is
# the last series that works with numpy 1.x.
FOCUS_VENV      := .venv-focus
FOCUS_VALIDATOR := $(FOCUS_VENV)/bin/focus-validator
FOCUS_PYTHONS    = python3.12 python3.13 $(sort $(wildcard /root/.pyenv/versions/3.1[2-9]*/bin/python $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python))

focus-validator: $(FOCUS_VALIDATOR)

$(FOCUS_VALIDATOR):
	@py=""; for candidate in $(FOCUS_PYTHONS); do \
	  if "$$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' > /dev/null 2>&1; then \
	    py="$$candidate"; break; fi; done; \
	if [ -z "$$py" ]; then \
	  echo "focus-validator needs Python >= 3.12 (none of: $(FOCUS_PYTHONS)); install python3.12 and python3.12-venv"; \
	  exit 1; fi; \
	echo "focus-validator: using $$py"; \
	rm -rf $(FOCUS_VENV) && "$$py" -m venv $(FOCUS_VENV) && \
	$(FOCUS_VENV)/bin/pip install --quiet 'focus-validator==2.2.*' 'pyarrow<22'

test: lint typecheck imports unit

bench: install
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.focus

# The container image (Containerfile), built from a debootstrap'd Debian root: nothing is pulled (docs/install.md).
IMAGE ?= localhost/kubetally:dev
image: install
	scripts/build-image --tag $(IMAGE)

# Refresh the README's screenshots from the UI's end-to-end tests.
screenshots: install
	KUBETALLY_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/ui

clean:
	rm -rf $(VENV) $(FOCUS_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis demo-data
