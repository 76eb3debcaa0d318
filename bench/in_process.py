"""Django set up inside a bench process, with its Cassandra alias on a keyspace of the bench's own."""

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
