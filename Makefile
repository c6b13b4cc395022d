# Quick start targets. Each creates .venv with the interpreter it finds
# (python3.11 or newer) so a fresh machine needs nothing but Python.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: check test docs bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "copyimage needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when the project metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(VENV)/.installed

check: $(VENV)/.installed
	$(BIN)/copyimage check scenarios/

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest
	$(BIN)/python -m tests.spec_coverage

docs: $(VENV)/.installed
	$(BIN)/copyimage docs docs/

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/explore.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
