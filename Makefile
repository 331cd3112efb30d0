# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test check lint types architecture unit bench routes clean tools dart-client

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

## make run [PORT=8001]: install, migrate, seed demo data when empty, print demo logins, serve on :PORT
PORT ?= 8000
run: $(STAMP)
	$(BIN)/tsh run --port $(PORT)

## make test: lint, types and the whole suite (embedded defaults, then PostgreSQL + Redis
## when TSH_TEST_DATABASE_URL / TSH_TEST_REDIS_URL are set, as .ci/run does)
test: $(STAMP) tools lint types architecture
	$(BIN)/python -m tests.run_suites

check: test

## make tools: the client generators that cannot share the project's virtualenv, in .venv-tools
## (openapi-python-client 0.29.1 needs typer<0.28; the project pins typer 0.29.2). docs/clients.md
## openapi-generator-cli 7.26.0 ships the openapi-generator jar (run with the machine's Java 17).
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed-opc-0.29.1-oag-7.26.0
tools: $(TOOLS_STAMP)
$(TOOLS_STAMP):
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet openapi-python-client==0.29.1 python-dateutil==4.0.0 \
		openapi-generator-cli==7.26.0
	@touch $@

## make dart-client: the Dart (dio) client generated from the document into var/clients/dart;
## fails on a generator error. Not compiled here: no Dart SDK on this machine (docs/clients.md)
DART_OUT := var/clients/dart
dart-client: $(STAMP) tools
	@mkdir -p var/clients
	PYTHONPATH=src $(BIN)/python scripts/openapi_document.py var/clients/openapi.json
	rm -rf $(DART_OUT)
	$(TOOLS)/bin/openapi-generator-cli generate -g dart-dio -i var/clients/openapi.json -o $(DART_OUT) \
		--additional-properties pubName=tsh_client

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations

types: $(STAMP)
	$(BIN)/mypy

## the layer and dependency rules of pyproject.toml [tool.importlinter] (docs/architecture.md)
architecture: $(STAMP)
	$(BIN)/lint-imports

## make routes: print the endpoints and regenerate docs/endpoints.md
routes: $(STAMP)
	$(BIN)/tsh routes
	$(BIN)/tsh routes --markdown

bench: $(STAMP)
	$(BIN)/python -m bench.platform_bench

clean:
	rm -rf $(VENV) $(TOOLS) var .mypy_cache .ruff_cache

migration-reset: $(STAMP)
	$(BIN)/python scripts/regen_initial_migration.py
