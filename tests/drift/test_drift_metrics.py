"""/metrics exports today's drift figures per model version; too few predictions export no alarm."""

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from recognizer.services import prediction_store

pytestmark = [pytest.mark.usefixtures("cassandra")]


def store(digit: int, confidence: float, *, version: str):
    probabilities = [(1 - confidence) / 9] * 10
    probabilities[digit] = confidence
    return prediction_store(source="api", filename=None, content_type="image/png", image=b"i", input_png=b"p",
                            probabilities=probabilities, model_version=version, latency_ms=1.0, created=time.time())


def test_todays_figures_are_gauges_by_model_version(client, settings):
    settings.NUMBERFIGURE_METRICS_ALLOWED_IPS = ["127.0.0.1"]
    settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE = 4
    settings.NUMBERFIGURE_DRIFT_REFERENCE = "days"  # today is its own first day: PSI 0
    for digit, confidence in ((1, 0.99), (2, 0.99), (3, 0.5), (4, 0.99)):
        store(digit, confidence, version="m-enough")
    store(5, 0.2, version="m-few")

    text = client.get("/metrics").content.decode()
    found = {(sample.name, sample.labels["model_version"]): sample.value
             for family in text_string_to_metric_families(text) if family.name.startswith("numberfigure_drift_")
             for sample in family.samples}

    assert found == {
        ("numberfigure_drift_predictions", "m-enough"): 4, ("numberfigure_drift_predictions", "m-few"): 1,
        ("numberfigure_drift_unsure_share", "m-enough"): 0.25,
        ("numberfigure_drift_reference_unsure_share", "m-enough"): 0.25,
        ("numberfigure_drift_confidence_psi", "m-enough"): 0.0, ("numberfigure_drift_digit_psi", "m-enough"): 0.0,
    }  # no labels yet: no accuracy; m-few: its count only
