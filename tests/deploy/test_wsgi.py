"""What a gunicorn worker does when it imports numberfigure.wsgi, before any request."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts worker processes that load the model

REPO = Path(__file__).resolve().parents[2]
LOCAL = {**os.environ, "DJANGO_SETTINGS_MODULE": "numberfigure.settings.local"}
PROBE = ("import gc, sys, numberfigure.wsgi; from recognizer.ml import runtime; "
         "print('recognizer.pages.views' in sys.modules, 'scipy.ndimage' in sys.modules, len(runtime._cache), "
         "gc.get_freeze_count() > len(gc.get_objects()))")


def import_wsgi(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env={**LOCAL, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def worker() -> subprocess.CompletedProcess:
    """A worker's start-up with the shipped model, probed once for the tests below."""
    return import_wsgi()


def test_a_worker_loads_the_views_and_the_model_before_its_first_request(worker):
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout.split()[:3] == ["True", "True", "1"]


def test_a_worker_keeps_what_it_loaded_out_of_the_garbage_collectors_scans(worker):
    """Frozen objects are never scanned again, so no full collection holds a request for ~80 ms."""
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout.split()[3] == "True"  # most of the worker's objects are frozen


def test_a_worker_without_a_model_stops_at_start_and_says_why(tmp_path):
    result = import_wsgi(MODEL_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "card.json" in result.stderr or "model.tflite" in result.stderr
