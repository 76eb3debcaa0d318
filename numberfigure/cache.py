"""The default cache of one host: diskcache's Django cache, kept open from one request to the next, in a
folder only its owner can enter."""

import os

from diskcache import DjangoCache


class DiskCache(DjangoCache):
    """Django closes every cache when a request ends (``django.core.cache.close_caches``); diskcache
    then closes its SQLite connections, and opening them again cost 1.4-1.5 ms a request, most of a rate
    check (bench/breakdown.py). They are per thread and per process, so they stay open, as a database
    connection with ``CONN_MAX_AGE`` does.

    diskcache unpickles the values it reads (CVE-2025-69872, no fixed release): whoever can write into its
    folder can run code in the workers, so the folder is the server user's alone (0700)."""

    def __init__(self, directory: str, params: dict) -> None:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # also when it was made before, with the umask's mode
        super().__init__(directory, params)

    def close(self, **kwargs) -> None:
        pass
