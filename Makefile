# Seamwatch: `make demo` sets up and runs the job on the bundled sample logs;
# `make test` sets up and runs ruff, mypy and the whole pytest suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck pytest bench examples clean

# The venv is the cache of the ~330 MB PyFlink wheel: it is built once and reused until
# pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	@command -v java >/dev/null || { echo "a JDK 17 (java on PATH) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/seamwatch run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

bench: install
	$(BIN)/python bench/throughput.py

# Regenerate the bundled sample logs (deterministic: same bytes every time).
examples: install
	$(BIN)/python -m seamwatch.sample.scenario examples

clean:
	rm -rf $(VENV) seamwatch-out .pytest_cache .mypy_cache .ruff_cache
