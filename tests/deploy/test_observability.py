"""Request ids, the one JSON log line per request, the Prometheus metrics and who may read /metrics."""

import io
import json
import logging
import os

import pytest
from cassandra.cluster import NoHostAvailable
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from recognizer import metrics


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def log_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "numberfigure.requests"]


def test_each_request_logs_one_json_line_and_echoes_a_generated_id(client, caplog):
    caplog.set_level(logging.INFO, logger="numberfigure.requests")
    response = client.get("/")

    [line] = log_lines(caplog)
    assert set(line) == {"request_id", "method", "route", "status", "duration_ms", "worker", "client"}
    assert line["worker"] == os.getpid()  # the process that served it
    assert line["client"] == "127.0.0.1"  # the test client's address
    assert (line["method"], line["route"], line["status"]) == ("GET", "/", 200)
    assert len(line["request_id"]) == 32 and response["X-Request-ID"] == line["request_id"]
    assert line["duration_ms"] > 0


def test_a_plain_client_request_id_is_kept_and_a_forged_one_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="numberfigure.requests")
    kept = client.get("/", HTTP_X_REQUEST_ID="edge-7f3a.1")
    replaced = client.get("/", HTTP_X_REQUEST_ID='x" "status": 200}\n{"forged')

    assert kept["X-Request-ID"] == "edge-7f3a.1"
    assert replaced["X-Request-ID"].isalnum() and len(replaced["X-Request-ID"]) == 32
    assert [line["request_id"] for line in log_lines(caplog)] == [kept["X-Request-ID"], replaced["X-Request-ID"]]


def test_routes_are_url_patterns_never_raw_paths(client, caplog):
    caplog.set_level(logging.INFO, logger="numberfigure.requests")
    client.get("/predictions/00000000-0000-1000-8000-000000000000/nope")  # no such URL
    client.get("/result", {"data": "7"})
    client.get("/static/css/none.css")
    assert [line["route"] for line in log_lines(caplog)] == ["unresolved", "/result", "static"]


def test_requests_are_counted_and_timed_by_route_method_and_status(client):
    labels = {"route": "/result", "method": "GET", "status": "400"}
    before = sample("numberfigure_http_requests_total", **labels)
    timed = sample("numberfigure_http_request_duration_seconds_count", **labels)
    client.get("/result", {"data": "not a digit"})
    assert sample("numberfigure_http_requests_total", **labels) == before + 1
    assert sample("numberfigure_http_request_duration_seconds_count", **labels) == timed + 1


def test_an_unknown_method_is_counted_as_other():
    metrics.observe_request(route="/", method="BREW", status=405, seconds=0.01)
    assert sample("numberfigure_http_requests_total", route="/", method="other", status="405") >= 1


def test_metrics_endpoint_serves_prometheus_text(client, settings, node_down):
    """Also while the node is down: the store's gauges it cannot read are left out, the rest is served."""
    settings.NUMBERFIGURE_METRICS_ALLOWED_IPS = ["127.0.0.1"]
    client.get("/result", {"data": "3"})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    families = {family.name: family for family in text_string_to_metric_families(response.content.decode())}
    assert {"numberfigure_http_requests", "numberfigure_http_request_duration_seconds", "numberfigure_predictions",
            "numberfigure_model_forward_seconds", "numberfigure_cassandra_write_seconds",
            "numberfigure_cassandra_errors"} <= set(families)
    routes = {s.labels["route"] for s in families["numberfigure_http_requests"].samples}
    assert "/result" in routes and not any("?" in route or "data=" in route for route in routes)


@pytest.mark.parametrize(("allowed", "status"), [([], 403), (["127.0.0.1"], 200), (["10.0.0.0/8", "::1"], 403)])
def test_metrics_are_denied_unless_the_address_is_allowed(client, settings, allowed, status, node_down):
    settings.NUMBERFIGURE_METRICS_ALLOWED_IPS = allowed
    assert client.get("/metrics").status_code == status  # the test client comes from 127.0.0.1


def test_instrumentation_helpers_feed_their_metrics():
    predictions = sample("numberfigure_predictions_total", source="draw", digit="4")
    forwards = sample("numberfigure_model_forward_seconds_count")
    writes = sample("numberfigure_cassandra_write_seconds_count")

    metrics.count_prediction("draw", 4)
    with metrics.timed_forward():
        pass
    with metrics.cassandra_write():
        pass

    assert sample("numberfigure_predictions_total", source="draw", digit="4") == predictions + 1
    assert sample("numberfigure_model_forward_seconds_count") == forwards + 1
    assert sample("numberfigure_cassandra_write_seconds_count") == writes + 1


def test_a_failed_write_is_counted_once_and_not_timed():
    labels = {"operation": "write", "error": "NoHostAvailable"}
    errors = sample("numberfigure_cassandra_errors_total", **labels)
    as_request = sample("numberfigure_cassandra_errors_total", operation="request", error="NoHostAvailable")
    writes = sample("numberfigure_cassandra_write_seconds_count")

    with pytest.raises(NoHostAvailable) as raised, metrics.cassandra_write():
        raise NoHostAvailable("no host", {})
    metrics.cassandra_error(raised.value)  # the storage middleware sees the same exception again

    assert sample("numberfigure_cassandra_errors_total", **labels) == errors + 1
    assert sample("numberfigure_cassandra_errors_total", operation="request", error="NoHostAvailable") == as_request
    assert sample("numberfigure_cassandra_write_seconds_count") == writes


@pytest.mark.django_db
@pytest.mark.usefixtures("cassandra_keyspace")
def test_a_4xx_on_a_real_id_logs_no_id(client, digit_png, caplog):
    """Django's request logger writes the path of every 4xx; a prediction's id in it is masked."""
    prediction_id = client.post("/api/predict", {"image": io.BytesIO(digit_png(0)[0])}, format="multipart").json()["id"]
    caplog.set_level(logging.INFO)
    caplog.clear()
    assert client.patch(f"/api/predictions/{prediction_id}", {"corrected_label": 1},
                        content_type="application/json").status_code == 403
    assert client.get(f"/api/predictions/{prediction_id}/nope").status_code == 404
    assert client.get(f"/history/{prediction_id.replace('-', '')}").status_code == 404
    messages = [record.getMessage() for record in caplog.records]
    assert [m for m in messages if "<id>" in m] == ["Forbidden: /api/predictions/<id>",
                                                   "Not Found: /api/predictions/<id>/nope", "Not Found: /history/<id>"]
    assert not any(prediction_id in m or prediction_id.replace("-", "") in m for m in messages)
