"""With no Cassandra answering, start-up still works and queries fail fast and clearly."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A port where nothing listens: from the client's side, exactly a stopped node.
DOWN = {**os.environ, "CASSANDRA_PORT": "1", "CASSANDRA_CONNECT_TIMEOUT": "2",
        "DJANGO_SETTINGS_MODULE": "numberfigure.settings.local"}


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=DOWN, capture_output=True, text=True,
                          timeout=timeout)


def test_manage_check_passes_without_cassandra():
    result = run("manage.py", "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


QUERY = """
import django, time
django.setup()
from recognizer.models import Prediction
started = time.monotonic()
try:
    Prediction.objects.first()
except Exception as error:
    print(type(error).__name__, error)
print("seconds", round(time.monotonic() - started, 1))
"""


def test_a_query_fails_with_a_clear_error_instead_of_hanging():
    started = time.monotonic()
    result = run("-c", QUERY, timeout=60)
    assert "NoHostAvailable" in result.stdout and "Unable to connect" in result.stdout, result.stdout
    assert time.monotonic() - started < 30


HEALTH = """
import django, json
django.setup()
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="127.0.0.1")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_health_check_reports_cassandra_unreachable():
    result = run("-c", HEALTH)
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["cassandra"]["reachable"] is False
    assert "NoHostAvailable" in answer["body"]["cassandra"]["error"]
