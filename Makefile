# Runda's two commands: `make run` and `make test` (and `make bench`).
# Everything they need is installed here, from PyPI and, for browser tests, Debian.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCALE  ?= 1

.PHONY: run test bench install install-test browser wrk clean

run: install
	RUNDA_DEV=1 $(BIN)/runda dev --scale $(SCALE)

test: install-test browser
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install-test wrk
	$(BIN)/python -m tests.load.bench --scale $(SCALE)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Runda needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

# Browser tests drive Debian's Chromium. Installed here when possible; in CI a missing
# browser fails the run rather than skipping tests.
browser:
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi; \
	if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$CI" = "true" ]; then echo "chromium is missing and could not be installed" >&2; exit 1; fi; \
		echo "chromium is not installed: browser tests will be skipped (install Debian's chromium)"; \
	fi

# The benchmark's load generator, from Debian.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; fi; }

clean:
	rm -rf $(VENV) .pytest_cache
