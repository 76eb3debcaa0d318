#!/bin/bash
# As the official image's entry point for `cassandra ...`: a cassandra.yaml listening on the container's
# address (CQL on every address), the CASSANDRA_* variables applied, data owned by user cassandra, then the
# server as that user. Other commands (cqlsh, bash) run as they are.
set -euo pipefail

if [ "${1:-}" = cassandra ]; then
    address="$(hostname -i | awk '{print $1}')"
    cat >"$CASSANDRA_CONF/cassandra.yaml" <<YAML
cluster_name: ${CASSANDRA_CLUSTER_NAME:-Test Cluster}
num_tokens: ${CASSANDRA_NUM_TOKENS:-16}
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: ${CASSANDRA_ENDPOINT_SNITCH:-SimpleSnitch}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
listen_address: ${CASSANDRA_LISTEN_ADDRESS:-$address}
broadcast_address: ${CASSANDRA_BROADCAST_ADDRESS:-$address}
rpc_address: ${CASSANDRA_RPC_ADDRESS:-0.0.0.0}
broadcast_rpc_address: ${CASSANDRA_BROADCAST_RPC_ADDRESS:-$address}
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${CASSANDRA_SEEDS:-$address}"
YAML
    printf 'dc=%s\nrack=%s\n' "${CASSANDRA_DC:-datacenter1}" "${CASSANDRA_RACK:-rack1}" \
        >"$CASSANDRA_CONF/cassandra-rackdc.properties"
    chown -R cassandra:cassandra /var/lib/cassandra "$CASSANDRA_CONF"
    exec setpriv --reuid cassandra --regid cassandra --init-groups "$@"
fi
exec "$@"
