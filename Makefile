# Backchannel — every target creates .venv on first use and installs the project into it.
# A fresh machine needs only python3 (3.11+), pip and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# Installs come from the lock files in requirements/ (every package pinned, every file hashed;
# README "Dependencies" says how to update them): run.txt is what running needs, test.txt adds
# the test and lint stack. The project itself is installed without build isolation, from the
# setuptools and wheel the lock pins, so nothing unhashed is fetched.
RUN_STAMP   := $(VENV)/.installed-run
STAMP       := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
# The UI tests drive Debian's Chromium with Playwright (never a downloaded browser) and inject
# axe-core, installed from the npm registry into the venv at build time.
CHROMIUM    ?= /usr/bin/chromium
AXE_VERSION := 4.14.1
AXE         := $(VENV)/node/node_modules/axe-core/axe.min.js
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# PDF copies are set in Debian's DejaVu Sans (src/backchannel/documents/font.py says why that
# font); the Arabic screenshot is rendered by Debian's pdftoppm.
FONT        ?= /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
PDFTOPPM    ?= /usr/bin/pdftoppm
# uv writes the locks (make lock); it is not needed to install them.
UV_VERSION  := 0.13.8
LOCK        := UV_NO_CONFIG=1 $(BIN)/uv pip compile pyproject.toml requirements/build.in \
	--generate-hashes --universal --python-version 3.11 --no-header --annotation-style line --quiet

.PHONY: run test lint typecheck bench clean browser documents screenshots lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements/run.txt pyproject.toml | $(BIN)/python
	$(PIP) --require-hashes --no-deps -r requirements/run.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $(RUN_STAMP)

$(STAMP): requirements/test.txt pyproject.toml | $(BIN)/python
	$(PIP) --require-hashes --no-deps -r requirements/test.txt
	$(PIP) --no-deps --no-build-isolation -e .
	touch $(STAMP) $(RUN_STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PIP) -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Re-resolve both locks from pyproject.toml's ranges (after changing a range, or to take new
# releases): the test lock is constrained by the run lock, so both pin the same versions.
lock: | $(BIN)/python
	$(PIP) uv==$(UV_VERSION)
	$(LOCK) --upgrade -o requirements/run.txt
	$(LOCK) --upgrade --extra dev -c requirements/run.txt -o requirements/test.txt

# The demo: a host on its embedded SQLite database in var/demo, the Muscat talks opened by three
# device profiles (Oman mediating, the US and Iran), and each one's web app on 127.0.0.1; it prints
# the three addresses (each holds its app's token). Ctrl-C stops it; each run starts afresh.
run: $(RUN_STAMP) $(FONT)
	rm -rf var/demo
	$(BIN)/backchannel demo scenarios/muscat-2024.toml --dir var/demo

$(CHROMIUM):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium

$(AXE):
	command -v npm >/dev/null || ( $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends npm )
	mkdir -p $(VENV)/node
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node axe-core@$(AXE_VERSION)

browser: $(CHROMIUM) $(AXE)

$(FONT):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends fonts-dejavu-core

$(PDFTOPPM):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends poppler-utils

documents: $(FONT) $(PDFTOPPM)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck browser documents
	BACKCHANNEL_CHROMIUM=$(CHROMIUM) BACKCHANNEL_AXE=$(AXE) $(BIN)/python -m pytest -n 2 --dist loadgroup -q

# The README's screenshots: the browser tests and the Arabic PDF copy, writing them to
# docs/screenshots/.
screenshots: lint browser documents
	BACKCHANNEL_CHROMIUM=$(CHROMIUM) BACKCHANNEL_AXE=$(AXE) BACKCHANNEL_SCREENSHOTS=docs/screenshots \
		$(BIN)/python -m pytest -q tests/ui/test_browser.py tests/ui/test_escrow.py tests/ui/test_documents_browser.py \
		tests/documents/test_screenshot.py

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
