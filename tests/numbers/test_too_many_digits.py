"""A picture of more digits than are stored for one (``segmentation.MAX_DIGITS``) is refused clearly,
on the API and on the upload page, and nothing of the request is stored."""

import io
import re

import pytest

from recognizer.models import OriginalChunk, Prediction
from recognizer.segmentation import MAX_DIGITS

LINES = 3


@pytest.fixture(scope="module")
def too_many(number_png):
    """Three lines of MAX_DIGITS // 3 + 1 MNIST test digits each: more than MAX_DIGITS in all."""
    per_line = MAX_DIGITS // LINES + 1
    return number_png([list(range(line * per_line, (line + 1) * per_line)) for line in range(LINES)])


def stored_anything(session) -> bool:
    return any(session.execute(f"SELECT * FROM {table.column_family_name()} LIMIT 1").all()
               for table in (Prediction, OriginalChunk))


def test_the_api_refuses_more_digits_than_a_picture_may_hold(client, too_many, cassandra):
    response = client.post("/api/predict", {"image": io.BytesIO(too_many)}, format="multipart")
    assert response.status_code == 422, response.content
    assert f"More than {MAX_DIGITS} digits found" in response.json()["error"]  # named after the field it is in
    preview = client.post("/api/preview", too_many, content_type="image/png")
    assert preview.status_code == 422 and f"More than {MAX_DIGITS} digits" in preview.json()["error"]
    assert not stored_anything(cassandra)


def test_the_upload_page_says_so_and_stores_none_of_the_files(client, too_many, digit_png, cassandra):
    response = client.post("/upload", {"images": [io.BytesIO(digit_png(0)[0]), io.BytesIO(too_many)]})
    assert response.status_code == 422
    page = response.content.decode()
    assert re.search(rf'data-testid="error"[^>]*>[^<]*More than {MAX_DIGITS} digits found', page), page
    assert 'data-testid="result"' not in page
    assert not stored_anything(cassandra)
