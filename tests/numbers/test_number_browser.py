"""Drawing a number on the draw page's wide canvas in Chromium, and reading it back whole."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("cassandra"),
    pytest.mark.django_db(transaction=True, databases=["default", "cassandra"]),
]

STROKES = Path(__file__).resolve().parents[1] / "ml" / "strokes.json"
WIDE = {"width": 1280, "height": 900}


def number_strokes(number: str) -> tuple[list, int]:
    """Each digit's strokes (the first of its label in strokes.json) at half size, side by side; the brush."""
    digits = json.loads(STROKES.read_text())["digits"]
    strokes, widths = [], []
    for position, label in enumerate(number):
        digit = next(digit for digit in digits if digit["label"] == int(label))
        strokes += [[(x / 2 + 10 + 125 * position, y / 2 + 70) for x, y in stroke] for stroke in digit["strokes"]]
        widths.append(digit["width"])
    return strokes, max(6, round(sorted(widths)[len(widths) // 2] / 2))


def assert_every_digit_shown(result, number: str, inputs_from: str) -> None:
    """Each digit's label, a box over the drawing, and on demand its ten bars (its own the highest) and input."""
    entries, boxes = result.get_by_test_id("digit-details"), result.get_by_test_id("digit-box")
    expect(entries).to_have_count(len(number))
    expect(boxes).to_have_count(len(number))
    for position, label in enumerate(number):
        entry = entries.nth(position)
        expect(entry.get_by_test_id("digit-label")).to_have_text(label)
        expect(boxes.nth(position).get_by_test_id("digit-box-label")).to_have_text(label)
        expect(entry.get_by_test_id("bar").first).to_be_hidden()  # on demand
        entry.locator("summary").click()
        bars = entry.get_by_test_id("bar")
        expect(bars).to_have_count(10)
        expect(bars.nth(int(label))).to_have_class(re.compile(r"\bis-predicted\b"))
        shares = [float(bars.nth(i).evaluate("bar => bar.style.getPropertyValue('--p')")) for i in range(10)]
        assert max(shares) == shares[int(label)] and abs(sum(shares) - 1) < 0.01, shares
        source = entry.get_by_test_id("digit-input").get_attribute("src")
        assert source.startswith(inputs_from), source
        assert entry.get_by_test_id("digit-input").evaluate("image => image.complete && image.naturalWidth") == 28
    xs = [boxes.nth(i).bounding_box()["x"] for i in range(len(number))]
    assert xs == sorted(xs) and xs[0] < xs[-1]  # placed over the drawing, left to right


def test_a_number_drawn_is_read_and_saved_digit_by_digit(open_draw, screenshot):
    draw_page = open_draw(viewport=WIDE)
    page = draw_page.page
    box = draw_page.canvas.bounding_box()
    assert box["width"] >= 1.9 * box["height"]  # a wide screen gets a wide canvas
    strokes, brush = number_strokes("2026")
    draw_page.set_brush(brush)
    draw_page.draw(strokes)
    draw_page.settle()
    result = page.get_by_test_id("result")
    expect(result.get_by_test_id("number")).to_have_text("2026")
    expect(result.get_by_test_id("digit")).to_have_text("2")  # the single-digit fields are the first digit's
    assert_every_digit_shown(result, "2026", "data:image/png;base64,")

    page.get_by_test_id("save").click()
    expect(result.get_by_test_id("stored-link")).to_have_count(1)
    expect(result.get_by_test_id("number")).to_have_text("2026")
    assert_every_digit_shown(result, "2026", f"{draw_page.page.url.rsplit('/draw', 1)[0]}/api/predictions/")
    screenshot(page, "draw-number")

    result.get_by_test_id("stored-link").click()  # the stored picture reads back whole, a box over each digit
    expect(page.get_by_test_id("number")).to_have_text("2026")
    expect(page.get_by_test_id("digit-box")).to_have_count(4)
    boxes = [page.get_by_test_id("digit-box").nth(i).bounding_box() for i in range(4)]
    assert all(box["width"] > 0 for box in boxes) and [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)
    page.get_by_test_id("digit-details").nth(3).locator("summary").click()
    expect(page.get_by_test_id("digit-details").nth(3).get_by_test_id("bar")).to_have_count(10)
