"""Acceptance: digits drawn as strokes in the browser are read correctly at least 95 % of the time.

The strokes (strokes.json, made by make_strokes.py) are traced from the first five MNIST test images
of each digit; each is replayed with real mouse moves on the draw page and read from the preview.
"""

import json
from collections import defaultdict
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("cassandra"),
    # live_server brings transactional_db; the pages read and write the Cassandra alias too.
    pytest.mark.django_db(transaction=True, databases=["default", "cassandra"]),
]

STROKES = json.loads((Path(__file__).parent / "strokes.json").read_text())
REQUIRED = 0.95


def test_drawn_digits_are_read_correctly(draw_page):
    assert STROKES["canvas"] == 280
    clear = draw_page.page.get_by_role("button", name="Clear")
    read = defaultdict(list)
    for sample in STROKES["digits"]:
        draw_page.set_brush(sample["width"])
        draw_page.draw(sample["strokes"], steps=1)
        read[sample["label"]].append(draw_page.digit())
        clear.click()
        expect(draw_page.outcome).to_have_attribute("data-state", "empty")

    correct = sum(digit == label for label, digits in read.items() for digit in digits)
    accuracy = correct / len(STROKES["digits"])
    for label, digits in sorted(read.items()):
        hits = sum(digit == label for digit in digits)
        print(f"{label}: {hits}/{len(digits)} read as {digits}")
    print(f"accuracy: {correct}/{len(STROKES['digits'])} = {accuracy:.0%}")
    assert accuracy >= REQUIRED, f"only {accuracy:.0%} of drawn digits read correctly; per digit: {dict(read)}"
