"""The default cache of one host (numberfigure.cache.DiskCache), in which every worker counts rates."""

import importlib

from numberfigure.cache import DiskCache
from numberfigure.settings import base


def test_counts_are_shared_by_workers_and_survive_the_end_of_a_request(tmp_path):
    first_worker, second_worker = (DiskCache(str(tmp_path), {"TIMEOUT": 60}) for _ in range(2))
    first_worker.add("rate:10.0.0.1", 0)
    first_worker.incr("rate:10.0.0.1")
    first_worker.close()  # what Django does when a request ends (close_caches)
    second_worker.add("rate:10.0.0.1", 0)  # already there: keeps the count
    assert second_worker.incr("rate:10.0.0.1") == 2
    assert first_worker.incr("rate:10.0.0.1") == 3


def test_without_cache_url_the_workers_count_in_the_disk_cache(monkeypatch):
    monkeypatch.delenv("CACHE_URL", raising=False)
    settings = importlib.reload(base)
    assert settings.CACHES["default"]["BACKEND"] == "numberfigure.cache.DiskCache"
    assert settings.CACHES["default"]["LOCATION"] == str(settings.VAR_DIR / "cache")
