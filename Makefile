# The two commands: `make run` and `make test`. Both install what they need from scratch
# (a Python venv, npm packages, Debian's Chromium when a test needs it) and are safe to re-run.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/0
NODE22 := npx -y -p node@22 --
APIDOCS_VENDOR := trace_api/home/static/vendor

.PHONY: run test install lint contracts-test contracts-check station-js-test pytest pytest-sqlite pytest-postgres clean

run: install
	$(BIN)/lotline up

test: install lint contracts-check contracts-test station-js-test pytest

STATION_VENDOR := trace_api/station/static/vendor/.built

install: $(VENV)/.installed node_modules/.installed $(STATION_VENDOR) $(APIDOCS_VENDOR)/.installed /usr/bin/chromium

# Debian's Chromium for the browser tests, a CJK font for Chinese labels and pages, pdftoppm for label tests.
/usr/bin/chromium:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei poppler-utils

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $@

# Hardhat 3 needs Node >= 22.13; under Node 20 `npm ci` silently skips its native EDR package.
node_modules/.installed: package.json package-lock.json
	$(NODE22) npm ci --no-audit --no-fund
	touch $@

# The scanning station's browser libraries, bundled from node_modules and served by the app (docs/station.md).
$(STATION_VENDOR): node_modules/.installed scripts/build-station-vendor.mjs
	node scripts/build-station-vendor.mjs

# /docs and /redoc serve Swagger UI and ReDoc from our own origin (no CDN, so they work offline): the files are
# copied out of node_modules, where package-lock.json pins them, into the package's static files. They are not
# committed: see trace_api/home/apidocs.py for why.
$(APIDOCS_VENDOR)/.installed: node_modules/.installed
	mkdir -p $(APIDOCS_VENDOR)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(APIDOCS_VENDOR)/
	cp node_modules/swagger-ui-dist/LICENSE $(APIDOCS_VENDOR)/swagger-ui-dist.LICENSE
	cp node_modules/redoc/bundles/redoc.standalone.js $(APIDOCS_VENDOR)/
	cp node_modules/redoc/LICENSE $(APIDOCS_VENDOR)/redoc.LICENSE
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

contracts-test: install
	npm run --silent lint
	npm test

# The station's code parser and offline verifier, on the vectors the Python scanner is tested on too.
station-js-test: install
	node --test tests/station_js/

# Fails when the committed chain/artifacts differ from a fresh compile of contracts/.
contracts-check: install
	npm run --silent artifacts:check

pytest: pytest-sqlite pytest-postgres

pytest-sqlite: install
	$(BIN)/pytest -n 2 --dist loadfile

# The database-backed tests again, on PostgreSQL, with the worker on the Redis broker.
pytest-postgres: install
	LOTLINE_TEST_DATABASE_URL=$(PG_URL) LOTLINE_TEST_BROKER_URL=$(REDIS_URL) $(BIN)/pytest -n 2 --dist loadfile -m db

clean:
	rm -rf $(VENV) node_modules artifacts cache data $(APIDOCS_VENDOR)
