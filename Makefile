# Backchannel — every target creates .venv on first use and installs the project into it.
# A fresh machine needs only python3 (3.11+), pip and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
# The UI tests drive Debian's Chromium with Playwright (never a downloaded browser) and inject
# axe-core, installed from the npm registry into the venv at build time.
CHROMIUM    ?= /usr/bin/chromium
AXE_VERSION := 4.14.1
AXE         := $(VENV)/node/node_modules/axe-core/axe.min.js
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck bench clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Replay the Muscat talks with real devices through a host on var/host.db, then keep that host
# running on 127.0.0.1:8470 (Ctrl-C stops it).
run: $(STAMP)
	mkdir -p var
	$(BIN)/backchannel simulate scenarios/muscat-2024.toml --through-host --db sqlite:///var/host.db
	@echo "The host keeps running with the Muscat talks in var/host.db; devices connect to it at:"
	$(BIN)/backchannel serve --db sqlite:///var/host.db --host 127.0.0.1 --port 8470

$(CHROMIUM):
	$(SUDO) apt-get update -q
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium

$(AXE):
	command -v npm >/dev/null || ( $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends npm )
	mkdir -p $(VENV)/node
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node axe-core@$(AXE_VERSION)

browser: $(CHROMIUM) $(AXE)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck browser
	BACKCHANNEL_CHROMIUM=$(CHROMIUM) BACKCHANNEL_AXE=$(AXE) $(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
