"""The operator's path in Chromium: log in, open the history, correct a prediction, see it in the stats."""

import numpy as np
import pytest
from helpers import peaked
from playwright.sync_api import expect

from recognizer.preprocessing import to_png
from recognizer.selectors import prediction_get
from recognizer.services import prediction_store

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("cassandra"),
    pytest.mark.django_db(transaction=True, databases=["default", "cassandra"]),
]


@pytest.fixture
def stored(mnist_test):
    """Three predictions of MNIST test digits 7, 2, 1; the model got the 1 wrong (said 7)."""
    images, _ = mnist_test
    made = []
    for index, digit in ((0, 7), (1, 2), (2, 7)):
        probabilities = peaked(digit)
        made.append(prediction_store(
            source="upload", filename=f"digit-{index}.png", content_type="image/png", image=b"original",
            input_png=to_png(images[index].astype(np.float32) / 255), probabilities=probabilities,
            model_version="2026-11-26-test", latency_ms=3.0))
    return made


def test_staff_corrects_a_prediction_and_sees_it_in_the_stats(page, live_server, stored, django_user_model,
                                                             screenshot):
    django_user_model.objects.create_superuser("operator", "op@example.org", "a-long-password-1")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Predictions").click()
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(3)
    screenshot(page, "history")
    wrong = stored[2]
    page.locator(f"a[href='/history/{wrong.id}']").first.click()

    expect(page.get_by_test_id("bar")).to_have_count(10)
    page.get_by_label("Correct label").select_option("1")
    page.get_by_test_id("save-correction").click()
    expect(page.get_by_text("The correction was saved.")).to_be_visible()
    expect(page.get_by_test_id("corrected")).to_contain_text("1 by operator")
    assert prediction_get(prediction_id=wrong.id).corrected_label == 1

    page.goto(f"{live_server.url}/stats")
    expect(page.get_by_test_id("labelled")).to_have_text("1")
    expect(page.get_by_test_id("accuracy")).to_have_text("0 %")
    confusion = page.get_by_test_id("confusion")
    expect(confusion.locator("tbody tr").nth(1).locator("td").nth(7)).to_have_text("1")  # label 1, said 7
    screenshot(page, "stats")
