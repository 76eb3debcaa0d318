"""The draw page in Chromium: mouse and touch drawing, live preview, Undo/Clear, Save."""

import re

import pytest
from playwright.sync_api import expect

from recognizer.selectors import prediction_list

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("cassandra"),
    # live_server brings transactional_db; the pages read and write the Cassandra alias too.
    pytest.mark.django_db(transaction=True, databases=["default", "cassandra"]),
]

# Hand-drawn digits in canvas units (0–280), one list of points per stroke.
FOUR = [[(95, 45), (70, 165), (200, 165)], [(170, 70), (165, 250)]]
SEVEN = [[(75, 55), (205, 55), (125, 245)]]


def test_mouse_drawing_is_read_after_each_stroke(draw_page, screenshot):
    page = draw_page.page
    expect(page.get_by_test_id("placeholder")).to_have_text("Draw a digit")
    draw_page.draw(FOUR[:1])
    draw_page.settle()
    expect(page.get_by_test_id("result")).to_have_count(1)
    draw_page.draw(FOUR[1:])

    assert draw_page.digit() == 4
    result = page.get_by_test_id("result")
    expect(result.get_by_test_id("bar")).to_have_count(10)
    expect(result.locator(".bar.is-predicted .bar-label")).to_have_text("4")
    expect(result.get_by_test_id("confidence")).to_have_text(re.compile(r"^\d{1,3}%$"))
    expect(result.get_by_test_id("input-image")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    expect(result.get_by_test_id("stored-link")).to_have_count(0)  # a preview stores nothing
    expect(page.get_by_test_id("placeholder")).to_be_hidden()
    screenshot(page, "draw")


def test_an_unsure_answer_is_shown_with_the_servers_warning(draw_page, settings):
    """The threshold is the server's alone: the page shows what the API's ``unsure`` says."""
    page = draw_page.page
    settings.NUMBERFIGURE_UNSURE_BELOW = 1.01  # every answer is unsure
    draw_page.draw(FOUR)
    assert draw_page.digit() == 4
    result = page.get_by_test_id("result")
    expect(result).to_have_class(re.compile(r"\bis-unsure\b"))
    expect(result.get_by_test_id("unsure")).to_have_text(re.compile("^Not sure"))

    settings.NUMBERFIGURE_UNSURE_BELOW = 0.0  # no answer is unsure
    page.get_by_test_id("save").click()
    expect(result.get_by_test_id("stored-link")).to_have_count(1)
    expect(result.get_by_test_id("unsure")).to_have_count(0)
    expect(result).not_to_have_class(re.compile(r"\bis-unsure\b"))


def test_touch_drawing_is_read_without_scrolling(open_draw, screenshot):
    draw_page = open_draw(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 640},
                          device_scale_factor=2)
    page = draw_page.page
    page.evaluate("""() => {
        window.pointerTypes = [];
        document.querySelector('canvas').addEventListener('pointerdown', e => pointerTypes.push(e.pointerType));
    }""")
    draw_page.canvas.scroll_into_view_if_needed()
    scrolled = page.evaluate("scrollY")
    cdp = page.context.new_cdp_session(page)
    for stroke in SEVEN:  # real touch input: Chromium turns it into pointer events
        points = draw_page.to_page(stroke)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [_touch(points[0])]})
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            for i in range(1, 9):
                point = (x0 + (x1 - x0) * i / 8, y0 + (y1 - y0) * i / 8)
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [_touch(point)]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    assert draw_page.digit() == 7
    assert page.evaluate("pointerTypes") == ["touch"]
    assert page.evaluate("scrollY") == scrolled  # dragging down the canvas did not scroll the page
    screenshot(page, "draw-phone")


def _touch(point):
    return {"x": point[0], "y": point[1], "radiusX": 4, "radiusY": 4, "force": 1, "id": 0}


def test_undo_removes_the_last_stroke_and_clear_empties_the_canvas(draw_page):
    page = draw_page.page
    previews = []
    page.on("request", lambda request: request.url.endswith("/api/preview") and previews.append(request))
    blank = draw_page.pixels()
    draw_page.draw(FOUR[:1])
    draw_page.settle()
    one_stroke = draw_page.pixels()
    draw_page.draw(FOUR[1:])
    assert draw_page.digit() == 4
    assert draw_page.pixels() not in (blank, one_stroke)

    page.get_by_role("button", name="Undo").click()
    assert draw_page.pixels() == one_stroke
    draw_page.settle()
    draw_page.draw(FOUR[1:])
    draw_page.settle()
    page.keyboard.press("Control+z")
    assert draw_page.pixels() == one_stroke

    page.get_by_role("button", name="Clear").click()
    assert draw_page.pixels() == blank
    expect(page.get_by_test_id("placeholder")).to_have_text("Draw a digit")
    expect(page.get_by_test_id("result")).to_have_count(0)
    for name in ("Undo", "Clear", "Save"):
        expect(page.get_by_role("button", name=name)).to_be_disabled()
    sent = len(previews)
    page.wait_for_timeout(500)  # longer than the preview delay: an empty canvas is never sent
    assert len(previews) == sent


def test_save_stores_the_drawing(draw_page):
    page = draw_page.page
    draw_page.draw(SEVEN)
    draw_page.settle()
    page.get_by_role("button", name="Save").click()
    link = page.get_by_test_id("stored-link")
    expect(link).to_be_visible()
    shown = draw_page.digit()
    assert draw_page.outcome.get_attribute("data-state") == "saved"

    [stored] = prediction_list(limit=5)
    assert (stored.source, stored.digit) == ("draw", shown)
    assert link.get_attribute("href").endswith(f"/predictions/{stored.id}")
    link.click()
    expect(page).to_have_url(re.compile(f"/predictions/{stored.id}$"))
    expect(page.get_by_test_id("digit")).to_have_text(str(shown))
