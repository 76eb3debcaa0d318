import copy

from django.db import connections
from django_cassandra_engine.management.commands import sync_cassandra


class Command(sync_cassandra.Command):
    """Upstream's sync, with the replication exactly as configured and safe to run again.

    Upstream's "simple" keyspace is really NetworkTopologyStrategy, and it pops the replication
    options out of the settings as it reads them, so a second run in one process would lose them.
    Creating the keyspace first (IF NOT EXISTS) makes upstream skip its own creation.
    """

    def sync(self, alias: str) -> None:
        settings_dict = connections[alias].settings_dict
        replication = copy.deepcopy(settings_dict["OPTIONS"].get("replication", {}))
        connections[alias].connection.session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {settings_dict['NAME']} WITH replication = {replication_map(replication)}"
        )
        try:
            super().sync(alias)
        finally:
            settings_dict["OPTIONS"]["replication"] = replication


def replication_map(replication: dict) -> str:
    """CQL map literal: {'class': 'SimpleStrategy', 'replication_factor': 1} or per-datacenter factors."""
    options = {"class": replication.get("strategy_class", "SimpleStrategy")}
    options.update({key: value for key, value in replication.items() if key != "strategy_class"})
    if options["class"] == "SimpleStrategy":
        options.setdefault("replication_factor", 1)
    return "{" + ", ".join(f"'{key}': {value!r}" for key, value in options.items()) + "}"
