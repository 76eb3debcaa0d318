"""The review page (/review) in Chromium: every key, undo through ten decisions, and a hundred labels by keyboard."""

import time
import uuid

import pytest
from playwright.sync_api import expect

from recognizer.models import ReviewLease
from recognizer.selectors import prediction_get
from recognizer.storage import cql, review

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("cassandra"),
    pytest.mark.django_db(transaction=True, databases=["default", "cassandra"]),
]


@pytest.fixture
def reviewing(page, live_server, django_user_model):
    """``reviewing()``: the review page open for a logged-in staff user, its first item on screen."""

    def open_page():
        django_user_model.objects.create_superuser("reviewer", "r@example.org", "a-long-password-1")
        page.goto(f"{live_server.url}/admin/login/?next=/review")
        page.get_by_label("Username").fill("reviewer")
        page.get_by_label("Password").fill("a-long-password-1")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_test_id("review-item")).to_be_visible()
        return page

    return open_page


def current(screen) -> str:
    return screen.locator("#review").get_attribute("data-current-id")


def press(screen, key: str) -> str:
    """Press ``key`` on the current item; the id it was pressed on, once the next is on screen."""
    before = current(screen)
    screen.keyboard.press(key)
    screen.wait_for_function("(before) => ![before, ''].includes(document.getElementById('review').dataset.currentId)",
                           arg=before)
    return before


def settled(screen) -> None:
    screen.wait_for_function("() => document.getElementById('review').dataset.pending === '0'")


def label_of(prediction_id: str) -> int | None:
    return prediction_get(prediction_id=uuid.UUID(prediction_id)).corrected_label


def test_every_key_and_button(reviewing, queue):
    stored = {str(p.id): p for p in queue(9)}
    screen = reviewing()
    expect(screen.get_by_test_id("review-help")).to_contain_text("Backspace")
    expect(screen.get_by_test_id("review-left")).to_have_text("9")
    labelled = {}
    for key in "0123456789"[:3]:
        labelled[press(screen, key)] = int(key)
    enter, space = press(screen, "Enter"), press(screen, " ")
    labelled[enter], labelled[space] = stored[enter].digit, stored[space].digit  # confirmed
    skipped = press(screen, "s")
    screen.keyboard.press("u")  # the skip is undone: the skipped one is back
    expect(screen.locator("#review")).to_have_attribute("data-current-id", skipped)
    expect(screen.get_by_test_id("review-was")).to_have_text("(skipped before)")
    labelled[press(screen, "9")] = 9
    undone = press(screen, "4")
    screen.keyboard.press("Backspace")
    expect(screen.locator("#review")).to_have_attribute("data-current-id", undone)
    expect(screen.get_by_test_id("review-was")).to_have_text("(labelled 4 before)")
    clicked = current(screen)
    screen.get_by_role("button", name="7", exact=True).click()  # touch screens
    labelled[clicked] = 7
    expect(screen.get_by_test_id("review-done")).to_have_text("7")
    settled(screen)
    assert {prediction_id: label_of(prediction_id) for prediction_id in labelled} == labelled
    assert undone == clicked or label_of(undone) is None
    tail = current(screen)
    press(screen, "s")
    settled(screen)
    lease = cql.run(cql.select(ReviewLease, "id = ?", [stored[tail].id]))
    assert lease and lease[0]["holder"] == review.SKIPPED and label_of(tail) is None


def test_undo_goes_back_through_the_last_ten_decisions(reviewing, queue):
    queue(13)
    screen = reviewing()
    decided = [press(screen, str(n % 10)) for n in range(12)]
    for expected in reversed(decided[2:]):  # the last ten, newest first
        screen.keyboard.press("u")
        expect(screen.locator("#review")).to_have_attribute("data-current-id", expected)
    screen.keyboard.press("u")
    expect(screen.get_by_test_id("review-message")).to_have_text("Nothing to undo.")
    relabelled = press(screen, "8")  # each undone decision is made anew
    settled(screen)
    assert relabelled == decided[2]
    assert [label_of(i) for i in decided] == [0, 1, 8] + [None] * 9


def test_a_hundred_labels_by_keyboard(reviewing, queue, screenshot):
    stored = {str(p.id): p for p in queue(100)}
    screen = reviewing()
    screenshot(screen, "review")
    pressed = {}
    started = time.perf_counter()
    for n in range(100):
        key = "Enter" if n % 2 else str((stored[current(screen)].digit + 1) % 10)
        prediction_id = current(screen)
        if n == 99:
            screen.keyboard.press(key)
            expect(screen.get_by_test_id("review-empty")).to_be_visible()
        else:
            press(screen, key)
        pressed[prediction_id] = stored[prediction_id].digit if key == "Enter" else int(key)
    settled(screen)
    elapsed = time.perf_counter() - started
    print(f"\nlabelled 100 queued predictions by keyboard in {elapsed:.1f} s: {100 / elapsed * 60:.0f} labels a minute")
    assert len(pressed) == 100 and set(pressed) == set(stored)
    assert {prediction_id: label_of(prediction_id) for prediction_id in pressed} == pressed
    expect(screen.get_by_test_id("review-done")).to_have_text("100")
