"""Is the Cassandra cluster answering? Used by /healthz and the tests."""

from django.db import connections

PROBE = "SELECT release_version FROM system.local"


def cassandra_status(*, timeout: float = 3.0) -> dict:
    """Reachability and version of the Cassandra node the app talks to; never raises."""
    try:
        session = connections["cassandra"].connection.session
        row = session.execute(PROBE, timeout=timeout).one()
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable", with its reason
        return {"reachable": False, "error": f"{type(error).__name__}: {error}"}
    return {"reachable": True, "release_version": row["release_version"]}
