# Pathwise: `make run` serves the app with a demo district; `make test` runs the whole suite.
# Needs only python3 (3.11+) and make: the environment is built from the lock files.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

.PHONY: run test bench lint install install-dev lock clean-demo messages catalogs new-catalog

# The family pages' languages (DEVELOPERS.md, "Languages"): one gettext catalog per
# language, locale/<ll>/LC_MESSAGES/pathwise.po, compiled to a .mo on install (not committed).
LOCALE        := locale
I18N_DOMAIN   := pathwise
I18N_SOURCES  := app.py pages ui
CATALOG_FILES := $(wildcard $(LOCALE)/*/LC_MESSAGES/$(I18N_DOMAIN).po)
COMPILED      := $(CATALOG_FILES:.po=.mo)

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

install: $(VENV)/.installed-run catalogs
install-dev: $(VENV)/.installed-dev catalogs

# Extract every string marked with _(), ngettext() or N_() into the template, then merge
# the template into every catalog (new strings arrive untranslated, changed ones fuzzy).
messages: $(VENV)/.installed-run
	$(BIN)/pybabel -q extract -F babel.cfg --sort-by-file --project=Pathwise \
		--copyright-holder="Pathwise contributors" -o $(LOCALE)/$(I18N_DOMAIN).pot $(I18N_SOURCES)
	$(BIN)/pybabel -q update --previous -D $(I18N_DOMAIN) -i $(LOCALE)/$(I18N_DOMAIN).pot -d $(LOCALE)

# Compile each catalog whose .po is newer than its .mo (fuzzy entries are left out).
catalogs: $(COMPILED)

$(LOCALE)/%.mo: $(LOCALE)/%.po $(VENV)/.installed-run
	$(BIN)/pybabel -q compile -D $(I18N_DOMAIN) -i $< -o $@

# A new language: make new-catalog CODE=vi (an ISO 639-1 code), then translate its .po.
new-catalog: $(VENV)/.installed-run
	@test -n "$(CODE)" || { echo "usage: make new-catalog CODE=vi"; exit 2; }
	$(BIN)/pybabel init -D $(I18N_DOMAIN) -i $(LOCALE)/$(I18N_DOMAIN).pot -d $(LOCALE) -l $(CODE)

run: install
	$(BIN)/pathwise db upgrade
	$(BIN)/pathwise demo --if-empty
	PATHWISE_DEMO_SIGNIN=$${PATHWISE_DEMO_SIGNIN:-auto} $(BIN)/streamlit run app.py --server.port $(PORT)

# pytest exits 5 when it collects no tests; that is a failure here, never a pass.
# The suite runs on every core (pytest-xdist): 18 minutes for 2,756 tests on these 2-core
# machines (2026-12-01). A third worker (-n 3) made it slower, 21 minutes: the tests are
# CPU-bound, so more workers only contend.
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
