# The two commands of the quick start: `make run` and `make test`; `make bench` measures.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck unit bench clean

# pip is upgraded first: the install then takes 20 s instead of 28 s with the pip Python 3.11
# ships. That older pip, which a user's plain `pip install .` may meet, is what
# tests/test_install.py installs the project with, so the quick start hides nothing.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "newsbot needs Python 3.11 or newer ($(PYTHON) is $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstalled only when pyproject.toml changes. pip compiles what it installs to bytecode: with
# PYTHONDONTWRITEBYTECODE set (as on the development machine) Python never writes a .pyc itself,
# so without it every process compiles every library it imports, every time: importing what
# `newsbot run` loads took 2.8 s of CPU instead of 1.4 s, and the suite starts hundreds of
# processes. Compiling costs the dev install about 5 s of CPU.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/newsbot sample-news
	$(BIN)/newsbot run

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Four test processes on two cores: most tests wait on other processes and servers as much as
# they compute (measured: 103 s with 2, 87 s with 3, 85 s with 4).
# The project's own modules are compiled first for the same reason as the libraries: with
# PYTHONDONTWRITEBYTECODE set, each of the suite's newsbot processes would compile them again
# (importing the core: 0.37 s of CPU compiled against 0.49 s not, median of 5).
unit: $(VENV)/.installed-dev
	$(BIN)/python -m compileall -q bot handlers storage tests bench
	$(BIN)/pytest -n 4

test: lint typecheck unit

# Every benchmark at full size (about 20 minutes on 2 cores), then one table of the figures.
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
