# Runda's two commands: `make run` and `make test` (and `make bench`).
# Everything they need is installed here, from PyPI and, for browser tests, Debian.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCALE  ?= 1

.PHONY: run test bench install install-test browser oidc-provider wrk clean

run: install
	RUNDA_DEV=1 $(BIN)/runda dev --scale $(SCALE)

test: install-test browser oidc-provider pgbouncer
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

# The sign-in tests' OpenID provider (panva's oidc-provider) on Node, from the npm registry,
# at the versions in tests/support/oidc/package-lock.json. Without Node the tests that need it
# are skipped locally; in CI a missing Node fails the run.
oidc-provider:
	@if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's nodejs and npm for the OpenID sign-in tests..."; \
		if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
		elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; fi; \
	fi; \
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		if [ "$$CI" = "true" ]; then echo "node and npm are missing: the OpenID sign-in tests need them" >&2; exit 1; fi; \
		echo "node is not installed: OpenID sign-in tests will be skipped (install Debian's nodejs and npm)"; \
	elif [ ! -d tests/support/oidc/node_modules/oidc-provider ]; then \
		npm ci --prefix tests/support/oidc --no-audit --no-fund --silent; \
	fi

# The connection-pooler tests' PgBouncer, from Debian: tests/integration/test_pgbouncer.py starts
# its own (transaction mode, its own ini file, a free port), so the package's service is disabled
# and stopped at once: nothing is left running system-wide. Without it the tests are skipped
# locally; in CI a missing pgbouncer fails the run.
.PHONY: pgbouncer
pgbouncer:
	@if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=none; fi; \
		if [ "$$SUDO" != none ]; then \
			echo "Installing Debian's pgbouncer for the connection-pooler tests..."; \
			$$SUDO apt-get update -qq && $$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
			{ $$SUDO systemctl disable --now pgbouncer || $$SUDO service pgbouncer stop; \
			  $$SUDO update-rc.d pgbouncer disable; } >/dev/null 2>&1 || true; \
		fi; \
	fi; \
	if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then \
		if [ "$$CI" = "true" ]; then echo "pgbouncer is missing and could not be installed" >&2; exit 1; fi; \
		echo "pgbouncer is not installed: the connection-pooler tests will be skipped (install Debian's pgbouncer)"; \
	fi

# The benchmark's load generator, from Debian.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; fi; }

clean:
	rm -rf $(VENV) .pytest_cache
