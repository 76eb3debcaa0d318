"""The drift panel in Chromium: a model version that drifts, the version that replaced it, both drawn."""

import json
import time

import numpy as np
import pytest
from django.conf import settings
from playwright.sync_api import expect

from recognizer import drift
from recognizer.services import prediction_correct, prediction_store

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("cassandra"),
    pytest.mark.django_db(transaction=True, databases=["default", "cassandra"]),
]
PER_DAY = 40
OLD = json.loads((settings.NUMBERFIGURE_MODEL_DIR / "card.json").read_text())["version"]
NEW = "2026-12-01-retrained"


def spread(counts: tuple[int, ...]) -> list[int]:
    """PER_DAY values, each bin as often as its share of ``counts`` (largest remainders): a day exactly
    like the reference, whatever its size."""
    wanted = [share * PER_DAY for share in drift.shares(counts)]
    whole = [int(value) for value in wanted]
    for index in sorted(range(len(wanted)), key=lambda i: whole[i] - wanted[i])[:PER_DAY - sum(whole)]:
        whole[index] += 1
    return [index for index, count in enumerate(whole) for _ in range(count)]


def store_day(rng, *, version: str, days_ago: int, drifted: float) -> None:
    """A day shaped like the card's reference, a ``drifted`` share of it moved to unsure 7s."""
    reference = drift.reference_of_card(json.loads((settings.NUMBERFIGURE_MODEL_DIR / "card.json").read_text()))
    bins, digits = spread(reference.confidence), rng.permutation(spread(reference.digits))
    tops = (0.0, *drift.CONFIDENCE_EDGES, 1.0)
    for n, (bin_, digit) in enumerate(zip(bins, digits, strict=True)):
        if n < drifted * PER_DAY:
            bin_, digit = 1, 7
        confidence = (tops[bin_] + tops[bin_ + 1]) / 2 if bin_ else 0.45
        probabilities = [(1 - confidence) / 9] * 10
        probabilities[digit] = confidence
        made = prediction_store(source="api", filename=None, content_type="image/png", image=b"i", input_png=b"p",
                                probabilities=probabilities, model_version=version, latency_ms=1.0,
                                created=time.time() - days_ago * 86400 + n)
        if n % 8 == 0:  # staff label a few: the drifted 7s were 1s
            prediction_correct(prediction=made, label=1 if n < drifted * PER_DAY else digit, user="staff")


def test_the_operator_sees_drift_per_model_version(page, live_server, django_user_model, screenshot, settings):
    settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE = 20
    rng = np.random.default_rng(7)
    for days_ago in range(29, 9, -1):  # the old model drifts over its last week
        store_day(rng, version=OLD, days_ago=days_ago, drifted=max(0.0, (16 - days_ago) * 0.06))
    for days_ago in range(9, -1, -1):  # the new model, on its own first days
        store_day(rng, version=NEW, days_ago=days_ago, drifted=0.2 if days_ago == 0 else 0.0)
    store_day(rng, version=OLD, days_ago=0, drifted=0)  # a few stragglers on the old one
    django_user_model.objects.create_superuser("operator", "op@example.org", "a-long-password-1")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/stats")
    panel = page.get_by_test_id("drift")
    for chart in ("drift-unsure", "drift-psi-confidence", "drift-psi-digits", "drift-accuracy"):
        expect(panel.get_by_test_id(chart).locator("g.series")).to_have_count(2)
    expect(panel.get_by_test_id("drift-status")).to_have_count(2)
    expect(panel.get_by_test_id("drift-today")).to_contain_text(NEW)
    panel.scroll_into_view_if_needed()
    screenshot(page, "drift")
