"""Test run: an isolated Cassandra keyspace (test_<keyspace>) and a throwaway SQLite file."""

from .base import *  # noqa: F403
from .base import VAR_DIR

DATABASES["default"] = {  # noqa: F405
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": VAR_DIR / "test.sqlite3",
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite makes many requests from one address: rates far above it (tests of the limits set their own),
# counted in this process's memory, empty at each run.
NUMBERFIGURE_RATE_LIMITS = {scope: "100000/m" for scope in NUMBERFIGURE_RATE_LIMITS}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]  # one process: local memory is shared
