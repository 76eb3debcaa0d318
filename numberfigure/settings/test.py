"""Test run: an isolated Cassandra keyspace (test_<keyspace>) and a throwaway SQLite file."""

from .base import *  # noqa: F403
from .base import VAR_DIR

DATABASES["default"] = {  # noqa: F405
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": VAR_DIR / "test.sqlite3",
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
