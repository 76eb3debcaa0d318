"""The upload page in Chromium: several files at once, drag and drop, and a file that is no image."""

import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from recognizer.selectors import prediction_list

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("cassandra"),
    # live_server brings transactional_db; the pages read and write the Cassandra alias too.
    pytest.mark.django_db(transaction=True, databases=["default", "cassandra"]),
]


@pytest.fixture
def digit_file(mnist_test, tmp_path):
    """``digit_file(label, name)``: the first MNIST test image of ``label`` as a photo-sized
    picture, dark ink on white, saved as ``name`` (the extension picks the format)."""
    images, labels = mnist_test

    def write(label: int, name: str):
        digit = Image.fromarray(255 - images[np.flatnonzero(labels == label)[0]])
        path = tmp_path / name
        digit.resize((280, 280), Image.Resampling.BICUBIC).save(path)
        return path
    return write


def open_upload(page, live_server):
    page.goto(f"{live_server.url}/upload")
    return page.get_by_label(re.compile("choose files"))


def test_two_files_are_recognised_in_order_and_stored(page, live_server, digit_file, screenshot):
    files = [digit_file(7, "seven.png"), digit_file(2, "two.jpg")]
    open_upload(page, live_server).set_input_files(files)
    expect(page.get_by_test_id("chosen")).to_have_text("seven.png, two.jpg")
    page.get_by_role("button", name="Recognise").click()

    results = page.get_by_test_id("result")
    expect(results).to_have_count(2)
    expect(results.get_by_test_id("filename")).to_have_text(["seven.png", "two.jpg"])
    expect(results.get_by_test_id("digit")).to_have_text(["7", "2"])
    for result in results.all():
        expect(result.get_by_test_id("bar")).to_have_count(10)
        expect(result.get_by_test_id("confidence")).to_have_text(re.compile(r"^\d{1,3}%$"))
        expect(result.get_by_test_id("input-image")).to_have_js_property("naturalWidth", 28)
    expect(page.get_by_test_id("error")).to_have_count(0)
    screenshot(page, "upload")

    stored = sorted(prediction_list(limit=5), key=lambda p: p.created_at)
    assert [(p.source, p.filename, p.digit) for p in stored] == [("upload", "seven.png", 7), ("upload", "two.jpg", 2)]
    links = results.get_by_test_id("stored-link")
    expect(links).to_have_count(2)
    # The widget is rendered from the API's JSON, whose links are absolute.
    assert [link.get_attribute("href") for link in links.all()] == [f"{live_server.url}/predictions/{p.id}"
                                                                    for p in stored]


def test_a_dropped_file_is_recognised_at_once(page, live_server, digit_file):
    open_upload(page, live_server)
    data = digit_file(3, "three.png").read_bytes()
    dropped = page.evaluate_handle("""bytes => {
        const files = new DataTransfer();
        files.items.add(new File([new Uint8Array(bytes)], 'three.png', {type: 'image/png'}));
        return files;
    }""", list(data))
    with page.expect_navigation():
        page.get_by_test_id("dropzone").dispatch_event("drop", {"dataTransfer": dropped})

    expect(page.get_by_test_id("result")).to_have_count(1)
    expect(page.get_by_test_id("digit")).to_have_text("3")
    expect(page.get_by_test_id("filename")).to_have_text("three.png")


def test_a_file_that_is_no_image_shows_a_readable_error(page, live_server, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture of a digit\n")
    open_upload(page, live_server).set_input_files(notes)
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Recognise").click()

    assert 400 <= posted.value.status < 500
    expect(page.get_by_test_id("error")).to_contain_text("not an image")
    expect(page.get_by_test_id("result")).to_have_count(0)
    expect(page.get_by_role("button", name="Recognise")).to_be_enabled()
    assert prediction_list(limit=5) == []
