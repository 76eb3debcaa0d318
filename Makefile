# One-command set-up for a fresh machine: `make run` serves the product, `make test` runs every test.
# Both create the venv, install the pinned requirements and start a local Cassandra node, unless
# CASSANDRA_HOSTS points at a cluster of your own.

VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run dev prepare test test-faults compose-test lint cassandra stop-cassandra bench clean

# `make run` serves the product as deployed: gunicorn with gunicorn.conf.py (WEB_CONCURRENCY workers),
# static files collected and served by WhiteNoise, DEBUG off, metrics shared by the workers. The local
# settings keep plain HTTP and the development secret; the image runs the production ones.
run: prepare
	$(MANAGE) collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} GUNICORN_BIND=$(HOST):$(PORT) PROMETHEUS_MULTIPROC_DIR=$${DJANGO_VAR_DIR:-var}/metrics \
		DJANGO_SETTINGS_MODULE=numberfigure.settings.local exec $(VENV)/bin/gunicorn -c gunicorn.conf.py numberfigure.wsgi

# `make dev`: Django's runserver, which reloads on every code change (DEBUG on, one process).
dev: prepare
	$(MANAGE) runserver $(HOST):$(PORT)

prepare: $(VENV)/.web cassandra
	$(MANAGE) sync_cassandra
	$(MANAGE) migrate --noinput

test: $(VENV)/.dev cassandra
	scripts/require chromium >/dev/null
	scripts/require nginx >/dev/null
	scripts/require promtool >/dev/null
	scripts/require podman >/dev/null
	$(VENV)/bin/ruff check .
	DJANGO_SETTINGS_MODULE=numberfigure.settings.test $(MANAGE) check
	$(VENV)/bin/pytest

# The fault tests alone: outages, node kills and pauses, worker kills (docs/reliability.md, "Fault tests").
test-faults: $(VENV)/.dev cassandra
	$(VENV)/bin/pytest tests/faults

# docker-compose.yml run for real with podman: every image built (stand-ins for the official ones, cached
# in podman's store), the stack started and used through nginx, containers restarted (docs/deploy.md).
compose-test: $(VENV)/.dev
	scripts/require podman >/dev/null
	$(VENV)/bin/pytest tests/deploy/test_compose.py

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

bench: $(VENV)/.dev cassandra
	$(PY) bench/runtimes.py

# The local node runs only when no external cluster is configured.
cassandra:
ifeq ($(strip $(CASSANDRA_HOSTS)),)
	scripts/cassandra start
else
	@echo "Using the Cassandra cluster at $(CASSANDRA_HOSTS)"
endif

stop-cassandra:
	scripts/cassandra stop

$(PY):
	"$$(scripts/require python)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.web: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-train.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.web

clean:
	rm -rf $(VENV) var test-artifacts
