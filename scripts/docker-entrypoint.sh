#!/bin/sh
# The image's entry point. Before the server (the Dockerfile's CMD, gunicorn) starts, it creates or updates
# the Cassandra keyspace and tables and Django's SQL tables; both steps are safe to repeat.
# MIGRATE_ON_START=false skips them: when several replicas start at once, run them once as a job instead
# (`docker compose run --rm web python manage.py sync_cassandra`, then `... migrate --noinput`).
set -eu

if [ "${1:-}" = gunicorn ] && [ "${MIGRATE_ON_START:-true}" = true ]; then
    python manage.py sync_cassandra
    python manage.py migrate --noinput
fi
exec "$@"
