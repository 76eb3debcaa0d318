"""The default cache of one host (numberfigure.cache.DiskCache), in which every worker counts rates."""

import importlib
import stat

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


def test_the_cache_folder_is_the_server_users_alone(tmp_path):
    """diskcache unpickles what it reads: nobody else may put a file there (CVE-2025-69872)."""
    made_before = tmp_path / "cache"
    made_before.mkdir(mode=0o777)
    DiskCache(str(made_before), {}).add("k", 1)
    DiskCache(str(tmp_path / "new" / "cache"), {}).add("k", 1)
    for folder in (made_before, tmp_path / "new" / "cache"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
