# Two entry points do all set-up on a fresh machine (see README.md):
#   make demo   the main walk-through on a local Kubernetes control plane
#   make test   lint, type checks, layering, and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The unit tests run a second time under Python 3.13 when the machine has it and PYTHON is
# not already it: on PATH as python3.13, or among pyenv's versions. `PYTHON313=` turns it off.
ifeq ($(origin PYTHON313),undefined)
PYTHON313 := $(shell \
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] == (3, 13))' 2>/dev/null && \
	for python in python3.13 $$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3; do \
		$$python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && \
		{ command -v $$python; break; }; \
	done)
endif
VENV313 := .venv313
STAMP313 := $(VENV313)/.installed

.PHONY: demo test lint clean docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable '.[dev]'
	touch $@

$(STAMP313): pyproject.toml
	$(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/pip install --quiet --upgrade pip
	$(VENV313)/bin/pip install --quiet --editable '.[dev]'
	touch $@

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

lint: $(STAMP)
	$(BIN)/ruff format --check src tests
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint $(if $(PYTHON313),$(STAMP313))
	PATH="$(CURDIR)/$(BIN):$$PATH" \
	SECOND_PYTHON="$(if $(PYTHON313),$(CURDIR)/$(VENV313)/bin/python)" \
	bash scripts/test.sh $(PYTEST_ARGS)

# The user guide: the reference regenerated from the code, then a static site in site/.
DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet --editable '.[docs]'
	touch $@

docs: $(DOCS_STAMP)
	$(BIN)/python scripts/gen_reference.py
	$(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) $(VENV313) .mypy_cache .ruff_cache .pytest_cache
