# o365mon — the two commands a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed
# Offline Bicep validation tools (checkov, pycep-parser, tree-sitter-bicep) in a venv of their own: checkov's pins
# would conflict with the app's. Inside .venv/ so that git, ruff and .funcignore already leave it out.
INFRA_VENV := $(VENV)/infra
STAMP_INFRA := $(INFRA_VENV)/.installed

# The console's browser files (htmx, uPlot), copied from the pinned npm packages by devtools/vendor.js.
VENDORED := shared/console/static/vendor/htmx.min.js shared/console/static/vendor/uPlot.iife.min.js
# Debian's Chromium and its driver for the browser tests (tests/browser): the distribution's build, so nothing
# is downloaded at test time. apt-get runs only when one of them is missing.
BROWSER := /usr/bin/chromium /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser demo test lint bench collect-bench check-bench clean

install: $(STAMP_PY) $(STAMP_NODE) $(VENDORED)

$(STAMP_PY): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PIP) install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(STAMP_INFRA): requirements-infra.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $@

# Azurite (Table + Queue + Blob emulator) goes into ./node_modules from the pinned lock file.
$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDORED) &: $(STAMP_NODE) devtools/vendor.js
	node devtools/vendor.js

browser: $(BROWSER)

$(BROWSER):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium chromium-driver

demo: install
	$(PY) -m devtools.demo

test: install browser $(STAMP_INFRA)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy
	O365MON_REQUIRE_INFRA=1 $(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m mypy

bench: install
	$(PY) -m bench.check_latency
	$(PY) -m bench.collection

clean:
	rm -rf $(VENV) node_modules .local .pytest_cache .ruff_cache *.egg-info
