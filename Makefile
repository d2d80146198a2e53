# Backchannel — every target creates .venv on first use and installs the project into it.
# A fresh machine needs only python3 (3.11+), pip and make.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint typecheck bench clean

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

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -n 2 -q

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
