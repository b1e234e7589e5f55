# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
#: pytest-xdist workers for `make test`: three on the two cores, because the fault, browser and
#: process tests spend much of their time waiting on real servers and timers.
TEST_WORKERS ?= 3
export FLASK_APP := wsgi.py

.PHONY: run test install install-run lint format bench bench-live bench-load bench-rush bench-scaleout
.PHONY: migrate

# What serving needs and no more (`make run`): the package and its runtime dependencies,
# as production installs it.
$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Serving plus the test, lint and benchmark tools (`make test`, `make lint`, `make bench`).
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

# Front-end libraries come from the npm registry at set-up and are copied into
# static/vendor, which git ignores: the venue needs no internet, the repo holds no copies.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.installed: node_modules/.installed
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/socket.io.min.js
	cp node_modules/jsqr/dist/jsQR.js static/vendor/jsQR.js
	touch $@

install: $(VENV)/.installed static/vendor/.installed

install-run: $(VENV)/.installed-run static/vendor/.installed

## Create the virtualenv (runtime only), migrate the SQLite database, seed the demo and serve
## on HOST:PORT (127.0.0.1:5000).
run: export FACILITATION_SITE_URL ?= http://$(HOST):$(PORT)
run: install-run
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/python wsgi.py --host $(HOST) --port $(PORT)

## Install with the dev tools and run the whole suite (SQLite and PostgreSQL) on TEST_WORKERS
## processes; PYTEST_ARGS are passed to pytest (e.g. PYTEST_ARGS="-k faults -x").
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python benchmarks/pairing_bench.py

## The live fan-out and memory benchmark (PostgreSQL; about 25 minutes with --repeat 3).
bench-live: install
	$(BIN)/python benchmarks/fanout_bench.py --sizes 100,500,1000 --modes threading,gevent

## A realistic evening: 300 sign-ups and registrations while 200 phones are in a live run,
## two gevent processes + Redis + PostgreSQL, beside a bare Flask baseline (about 8 minutes).
bench-load: install
	$(BIN)/python benchmarks/load_bench.py --phones 200 --visitors 300 --duration 180

## A rush: public pages and registrations under wrk at 200 connections, beside bare Flask
## (needs Debian's wrk; about 4 minutes).
bench-rush: install
	$(BIN)/python benchmarks/rush_bench.py

## The production shape: two processes behind HAProxy (deploy/haproxy.cfg) with Redis, beside
## one process (needs Debian's haproxy; about 5 minutes).
bench-scaleout: install
	$(BIN)/python benchmarks/scaleout_bench.py --phones 300 --duration 30

## Make a migration after a model change: make migrate MESSAGE="what changed"
migrate: install
	$(BIN)/flask db migrate -m "$(MESSAGE)"
