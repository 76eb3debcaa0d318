"""Django set up inside a bench process, with its Cassandra alias on a keyspace of the bench's own."""

import contextlib
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup(*, keyspace: str) -> None:
    """The local settings on ``keyspace``; call it before importing anything of the app."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numberfigure.settings.local")
    os.environ["CASSANDRA_KEYSPACE"] = keyspace
    import django

    django.setup()


def fresh_keyspace():
    """The bench's keyspace dropped and made again (``sync_cassandra``, whose lines of progress are not the
    bench's figures); its Cassandra session."""
    from django.core.management import call_command
    from django.db import connections

    drop_keyspace()
    with contextlib.redirect_stdout(io.StringIO()):
        call_command("sync_cassandra", verbosity=0)
    return connections["cassandra"].connection.session


def drop_keyspace() -> None:
    """The bench's keyspace gone (benches call it at the end, also when they fail)."""
    from django.db import connections

    keyspace = os.environ["CASSANDRA_KEYSPACE"]
    connections["cassandra"].connection.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
