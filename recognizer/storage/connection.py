"""cqlengine's lazy connect, made safe for threads and for every kind of failed connect.

Upstream's ``Connection.handle_lazy_connect`` clears its ``lazy_connect`` flag *before* it connects,
so a second thread arriving meanwhile skips the lock and finds no session yet: the first concurrent
requests of a fresh gthread worker failed with ``'NoneType' object has no attribute 'prepare'``.
Here a thread passes without the lock only once the connection is completely set up.

Upstream also retries only after ``NoHostAvailable``: any other failure (a contact point whose name
does not resolve, as compose's ``cassandra`` while that container is down) left the worker without
a session, answering 500 until it restarted. Here every failure is retried, as ``NoHostAvailable``
(which the app answers with its outbox or a 503), and a worker tries again at most every
RETRY_SECONDS, so requests during an outage fail fast instead of each waiting for a connect.
And checking whether the connection is registered no longer connects (``register``).
"""

import logging
import time

from cassandra.cluster import NoHostAvailable
from cassandra.cqlengine import connection
from django_cassandra_engine.connection import CassandraConnection

RETRY_SECONDS = 1.0

logger = logging.getLogger(__name__)


def handle_lazy_connect(self: connection.Connection) -> None:
    if getattr(self, "ready", False):
        return
    with self.lazy_connect_lock:  # a thread that is connecting holds it until it is done
        if not self.lazy_connect:
            self.ready = self.session is not None
            return
        failed_at = getattr(self, "failed_at", None)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_SECONDS:
            raise NoHostAvailable("Cassandra was unreachable a moment ago; not retrying yet", {})
        self.lazy_connect = False
        try:
            self.setup()
        except Exception as error:  # noqa: BLE001 - whatever it was, connect again on a later use
            self.lazy_connect, self.failed_at, self.session = True, time.monotonic(), None
            if getattr(self, "cluster", None) is not None:
                self.cluster.shutdown()  # its threads and sockets; the next attempt makes a new one
                self.cluster = None
            logger.warning("Could not connect to Cassandra: %s: %s", type(error).__name__, error)
            if isinstance(error, NoHostAvailable):
                raise
            raise NoHostAvailable(f"Could not connect to Cassandra: {type(error).__name__}: {error}", {}) from error
        self.failed_at = None
        self.ready = self.session is not None


_register = CassandraConnection.register


def register(self: CassandraConnection) -> None:
    """django-cassandra-engine checks whether its connection is registered with ``get_connection``,
    which connects: after every request (``close_old_connections``), so during an outage each
    request ended in an error. Looking the name up does not connect."""
    if self.alias not in connection._connections:
        _register(self)


def install() -> None:
    connection.Connection.handle_lazy_connect = handle_lazy_connect
    CassandraConnection.register = register
