#!/bin/bash
# The compose file's entry point for the cassandra image: the image's own (docker-entrypoint.sh) starts the
# node with password authentication; beside it, once the node answers, this creates the application's role
# (CASSANDRA_USERNAME, CASSANDRA_PASSWORD), allowed to create its keyspace and owning what it creates, and
# gives the default superuser `cassandra` (password `cassandra`, known to all) a random password. A node
# whose role already logs in is left as it is. The health check logs in as the application's role.
set -euo pipefail

docker-entrypoint.sh "$@" &
node=$!
trap 'kill -TERM "$node"' TERM INT

cql() { cqlsh -u "$1" -p "$2" -e "$3" >/dev/null 2>&1; }
quoted="${CASSANDRA_PASSWORD//\'/\'\'}"

until cql "$CASSANDRA_USERNAME" "$CASSANDRA_PASSWORD" "describe keyspaces"; do
    kill -0 "$node" 2>/dev/null || break
    # The default superuser exists a few seconds after the node answers.
    if cql cassandra cassandra "CREATE ROLE IF NOT EXISTS \"$CASSANDRA_USERNAME\" WITH PASSWORD = '$quoted' AND LOGIN = true" \
        && cql cassandra cassandra "GRANT CREATE ON ALL KEYSPACES TO \"$CASSANDRA_USERNAME\""; then
        cql cassandra cassandra "ALTER ROLE cassandra WITH PASSWORD = '$(head -c 32 /dev/urandom | base64 -w0)'"
        echo "entrypoint.sh: role $CASSANDRA_USERNAME created; the default superuser's password replaced" >&2
    fi
    sleep 5
done

status=0
wait "$node" || status=$?
if kill -0 "$node" 2>/dev/null; then  # woken by the signal: the node's own exit status
    wait "$node" || status=$?
fi
exit "$status"
