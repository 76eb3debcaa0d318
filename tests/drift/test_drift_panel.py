"""The stats page's drift panel: 30 days of lines per model version, bands, today's figures and
histogram against the card's reference."""

import json
import re
import time

import pytest
from django.conf import settings

from recognizer.services import prediction_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra")]
CARD_VERSION = json.loads((settings.NUMBERFIGURE_MODEL_DIR / "card.json").read_text())["version"]


def store(digit: int, confidence: float, *, version: str, days_ago: int):
    probabilities = [(1 - confidence) / 9] * 10
    probabilities[digit] = confidence
    prediction_store(source="api", filename=None, content_type="image/png", image=b"i", input_png=b"p",
                     probabilities=probabilities, model_version=version, latency_ms=1.0,
                     created=time.time() - days_ago * 86400)


def test_the_panel_draws_each_model_versions_days_against_its_reference(client, django_user_model, settings):
    settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE = 3
    for days_ago in (0, 2, 40):  # 40 days ago: outside the panel
        for n in range(3):
            store(n, 0.99999, version=CARD_VERSION, days_ago=days_ago)
    store(8, 0.4, version="other", days_ago=0)  # one prediction: too few
    client.force_login(django_user_model.objects.create_user("staff", password="pw-staff-123", is_staff=True))

    page = client.get("/stats").content.decode()

    psi = page.split('data-testid="drift-psi-digits"', 1)[1].split("</figure>", 1)[0]
    assert psi.count("<circle") == 2  # two days of the card's version; none of "other" (too few)
    assert 'class="band band-moderate"' in psi and 'class="band band-significant"' in psi
    statuses = re.findall(r'data-testid="drift-status">([^<]+)<', page)
    assert sorted(statuses) == ["significant", "too few"]  # 3 digits of 10 against the card: far off
    histogram = page.split('data-testid="drift-histogram"', 1)[1]
    assert histogram.count('class="drift-ref"') == 10  # the card's reference in every bin
    assert "http" not in page.split('data-testid="drift"', 1)[1].split("</section>")[0]  # nothing from elsewhere
