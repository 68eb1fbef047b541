# Two commands do everything on a fresh machine (Python 3.11+, PyPI reachable):
#   make demo   - set up, then the offline demo: simulated Hub -> full sync -> DuckDB catalogue
#   make test   - set up, then the linter, the type checker, the import-layer contracts and the whole test suite
# After the demo, `make ui` opens the Dagster UI on the same instance (.dagster_home).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test ui bench soak setup clean

demo: setup
	$(BIN)/ggufsync config validate --all
	$(BIN)/ggufsync demo

ui: setup
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/python -c 'from ggufsync_assets.defs.instance import dagster_home; dagster_home()'
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -w workspace.yaml

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m bench

# Not part of `make test`: the kill, secret and bad-input tests with more seeds and more examples
# (about a minute per kill seed, 200 examples per bad-input property). Loopback only; it stops by itself.
SOAK_SEEDS ?= 71,72,73,74,75
SOAK_EXAMPLES ?= 200
soak: setup
	SOAK_SEEDS=$(SOAK_SEEDS) SOAK_EXAMPLES=$(SOAK_EXAMPLES) $(BIN)/pytest -q ggufsync_tests/reliability

# The project's own bytecode too (uv compiles only the dependencies'): where PYTHONDONTWRITEBYTECODE
# is set, as in many containers, every command would otherwise compile ggufsync from source.
setup: $(VENV)/.installed
	@$(BIN)/python -m compileall -q ggufsync_assets

# The virtual environment is rebuilt whenever the declared or locked dependencies change.
$(VENV)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ggufsync needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.9"
	$(BIN)/uv sync --frozen --quiet --compile-bytecode
	chmod 700 config && chmod 600 config/sync-config-production.yaml
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
