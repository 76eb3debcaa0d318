"""The default cache of one host: diskcache's Django cache, kept open from one request to the next."""

from diskcache import DjangoCache


class DiskCache(DjangoCache):
    """Django closes every cache when a request ends (``django.core.cache.close_caches``); diskcache
    then closes its SQLite connections, and opening them again cost 1.4-1.5 ms a request, most of a rate
    check (bench/breakdown.py). They are per thread and per process, so they stay open, as a database
    connection with ``CONN_MAX_AGE`` does."""

    def close(self, **kwargs) -> None:
        pass
