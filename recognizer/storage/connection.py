"""cqlengine's lazy connect, made safe for threads.

Upstream's ``Connection.handle_lazy_connect`` clears its ``lazy_connect`` flag *before* it connects,
so a second thread arriving meanwhile skips the lock and finds no session yet: the first concurrent
requests of a fresh gthread worker failed with ``'NoneType' object has no attribute 'prepare'``.
Here a thread passes without the lock only once the connection is completely set up.
"""

from cassandra.cqlengine import connection


def handle_lazy_connect(self: connection.Connection) -> None:
    if getattr(self, "ready", False):
        return
    with self.lazy_connect_lock:  # a thread that is connecting holds it until it is done
        if self.lazy_connect:
            self.lazy_connect = False
            self.setup()  # with retry_connect, a failure sets lazy_connect again for the next caller
        self.ready = self.session is not None


def install() -> None:
    connection.Connection.handle_lazy_connect = handle_lazy_connect
