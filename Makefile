# Two commands: `make run` and `make test`. Everything else is what they use.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The first interpreter that really is Python 3.12 or newer: PATH first, then pyenv's versions.
FIND_PYTHON = for c in python3.13 python3.12 python3 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    command -v $$c; exit 0; fi; done; exit 1

.PHONY: run test install lint demo worker clean

$(PY):
	@base=$$($(FIND_PYTHON)) || { echo "No Python 3.12 or newer found. Install Python 3.12+ (Django 6 needs it) and run make again." >&2; exit 1; }; \
	echo "Using $$base ($$($$base --version))"; \
	$$base -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	$(PY) manage.py runstack

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var
