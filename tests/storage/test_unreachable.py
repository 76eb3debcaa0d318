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


def run(*args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**DOWN, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


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


def test_health_check_reports_degraded_while_the_outbox_takes_predictions(tmp_path):
    result = run("-c", HEALTH, env={"OUTBOX_DIR": str(tmp_path)})
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"status": 200, "body": {"status": "degraded", "outbox": {"depth": 0, "oldest_age_seconds": None}}}
    assert "NoHostAvailable" in result.stderr  # the reason, for the operator's logs


def test_health_check_is_unavailable_when_the_outbox_is_full_too(tmp_path):
    result = run("-c", HEALTH, env={"OUTBOX_DIR": str(tmp_path), "OUTBOX_MAX_ITEMS": "0"})
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503 and answer["body"]["status"] == "unavailable"


SERIAL = """
from cassandra import ConsistencyLevel
from django.conf import settings  # the settings alone: the apps are not needed to read them
print(ConsistencyLevel.value_to_name[settings.CASSANDRA_SERIAL_CONSISTENCY])
"""


def test_several_datacenters_need_the_local_one_named_and_agree_on_transactions_across_all():
    several = {"CASSANDRA_REPLICATION_STRATEGY": "NetworkTopologyStrategy", "CASSANDRA_DATACENTERS": "dc1:3,dc2:3"}
    refused = run("manage.py", "check", env=several)
    assert refused.returncode != 0 and "CASSANDRA_LOCAL_DC must name" in refused.stderr
    assert run("-c", SERIAL, env={**several, "CASSANDRA_LOCAL_DC": "dc1"}).stdout.split() == ["SERIAL"]
    one = {"CASSANDRA_REPLICATION_STRATEGY": "NetworkTopologyStrategy", "CASSANDRA_DATACENTERS": "dc1:3",
           "CASSANDRA_LOCAL_DC": "dc1"}
    assert run("-c", SERIAL, env=one).stdout.split() == ["LOCAL_SERIAL"]
    assert run("-c", SERIAL).stdout.split() == ["LOCAL_SERIAL"]
