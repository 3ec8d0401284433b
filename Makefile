# Pathwise: `make run` serves the app with a demo district; `make test` runs the whole suite.
# Needs only python3 (3.11+) and make: the environment is built from the lock files.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test bench lint install install-dev lock clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/pathwise db upgrade
	$(BIN)/pathwise demo --if-empty
	PATHWISE_DEMO_SIGNIN=$${PATHWISE_DEMO_SIGNIN:-auto} $(BIN)/streamlit run app.py --server.port $(PORT)

# pytest exits 5 when it collects no tests; that is a failure here, never a pass.
# The suite runs on every core (pytest-xdist): about 9 minutes on 2 cores instead of ~18.
PYTEST_ARGS ?= -n auto
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Re-pin every package after changing pyproject.toml's dependencies.
lock: install-dev
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra test -o requirements-dev.lock pyproject.toml
