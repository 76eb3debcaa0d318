"""Abuse limits: per-client rates (429), login lockouts, the upload handler that stops reading, and no
password oracle on the API."""

import base64
import io

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import Client, RequestFactory

from recognizer.pages import views


@pytest.fixture
def low_rates(settings):
    settings.NUMBERFIGURE_RATE_LIMITS = {"predict": "3/m", "preview": "4/m", "api": "5/m"}


def png_upload(png: bytes, name: str = "seven.png") -> io.BytesIO:
    part = io.BytesIO(png)
    part.name = name
    return part


@pytest.mark.usefixtures("low_rates")
def test_a_burst_on_the_api_gets_429_as_json_and_stores_nothing_more(client, seven, stored_rows):
    before = stored_rows()[0]
    statuses = [client.post("/api/predict", {"image": png_upload(seven)}).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    response = client.post("/api/predict", {"image": png_upload(seven)})
    assert response.status_code == 429
    assert response.json()["error"] == ("Too many requests from your address: at most 3 per minute. "
                                        "Please wait a moment and try again.")
    assert stored_rows()[0] == before + 3


@pytest.mark.usefixtures("low_rates")
def test_an_unreachable_rate_limit_cache_lets_the_request_through(client, seven, stored_rows, settings, caplog):
    """Redis down (or its name not resolving yet): the recognition is answered, not a 500."""
    settings.CACHES = {**settings.CACHES, "down": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens on 1
    settings.RATELIMIT_USE_CACHE = "down"
    before = stored_rows()[0]
    response = client.post("/api/predict", {"image": png_upload(seven)})
    assert response.status_code == 201, response.content
    assert stored_rows()[0] == before + 1
    assert "Rate limit predict not checked" in caplog.text


@pytest.mark.usefixtures("low_rates", "cassandra_keyspace")
def test_previews_and_reads_have_rates_of_their_own(client, seven):
    body = {"image": "data:image/png;base64," + base64.b64encode(seven).decode()}
    previews = [client.post("/api/preview", body, content_type="application/json").status_code for _ in range(5)]
    assert previews == [200] * 4 + [429]
    reads = [client.get("/api/predictions/1b4e28ba-2fa1-11d2-883f-0016d3cca427").status_code for _ in range(6)]
    assert reads == [404] * 5 + [429]
    other_client = Client(REMOTE_ADDR="203.0.113.9")  # counted apart
    assert other_client.post("/api/preview", body, content_type="application/json").status_code == 200


@pytest.mark.usefixtures("low_rates")
def test_the_pages_and_old_route_share_the_predict_rate(client, seven, stored_rows):
    before = stored_rows()
    for _ in range(3):
        assert client.post("/upload", {"images": png_upload(seven)}).status_code == 200
    page = client.post("/upload", {"images": png_upload(seven)})
    assert page.status_code == 429 and "Too many requests" in page.content.decode()
    old = client.post("/upload3", {"filedata": "data:image/png;base64," + base64.b64encode(seven).decode()})
    assert old.status_code == 429 and old.json()["status"] == "error" and "Too many" in old.json()["error"]
    assert stored_rows()[0] == before[0] + 3


def test_the_client_address_comes_from_the_configured_header(settings, client, seven):
    settings.NUMBERFIGURE_RATE_LIMITS = {"predict": "1/m", "preview": "1/m", "api": "1/m"}
    settings.NUMBERFIGURE_CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"  # the test client's peer is 127.0.0.1: trusted
    body = {"image": "data:image/png;base64," + base64.b64encode(seven).decode()}
    for address in ("198.51.100.1", "198.51.100.2"):
        response = client.post("/api/preview", body, content_type="application/json", HTTP_X_REAL_IP=address)
        assert response.status_code == 200
    again = client.post("/api/preview", body, content_type="application/json", HTTP_X_REAL_IP="198.51.100.1")
    assert again.status_code == 429


@pytest.mark.django_db
def test_admin_logins_are_locked_out_after_five_failures(django_user_model, settings):
    django_user_model.objects.create_user("admin", password="right-password-123", is_staff=True)
    browser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = browser.post("/admin/login/", {"username": "admin", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    locked = browser.post("/admin/login/", {"username": "admin", "password": "wrong"})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    still = browser.post("/admin/login/", {"username": "admin", "password": "right-password-123"})
    assert still.status_code == 429  # even the right password, until the lockout ends
    elsewhere = Client(REMOTE_ADDR="203.0.113.7")  # another address is not locked out by this one
    assert elsewhere.post("/admin/login/", {"username": "admin", "password": "right-password-123"}).status_code == 302


@pytest.mark.django_db
def test_the_api_takes_no_basic_auth_password_guesses(django_user_model, client):
    django_user_model.objects.create_user("admin", password="right-password-123", is_staff=True)
    guess = "Basic " + base64.b64encode(b"admin:wrong").decode()
    right = "Basic " + base64.b64encode(b"admin:right-password-123").decode()
    wrong_answer = client.get("/api/predictions", HTTP_AUTHORIZATION=guess)
    right_answer = client.get("/api/predictions", HTTP_AUTHORIZATION=right)
    assert wrong_answer.status_code == right_answer.status_code == 403  # the password is never checked
    assert client.get("/api/schema/", HTTP_AUTHORIZATION=guess).status_code == 200


class CountingStream:
    """A client's body made on demand: counts what the server reads of it."""

    def __init__(self, head: bytes, size: int):
        self.head, self.size, self.read_bytes = head, size, 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        start = self.read_bytes
        self.read_bytes += n
        return (self.head[start:start + n] + b"\0" * n)[:n]

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit)


def streamed_upload(total: int, *, declared: int | None = None) -> tuple[WSGIRequest, CountingStream]:
    """POST /upload whose one file part goes on for ``total`` bytes, read from a counting stream."""
    boundary = "hostile"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"images\"; filename=\"big.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()
    stream = CountingStream(head, total)
    environ = RequestFactory()._base_environ(
        REQUEST_METHOD="POST", PATH_INFO="/upload", CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH=str(declared if declared is not None else total), **{"wsgi.input": stream})
    return WSGIRequest(environ), stream


@pytest.mark.usefixtures("cassandra_keyspace")
def test_a_part_past_the_limit_stops_the_reading_at_once(settings):
    limit = settings.NUMBERFIGURE_MAX_UPLOAD_BYTES
    settings.NUMBERFIGURE_MAX_FILES = 60  # files x size is over 250 MB: only the part limit stops it
    request, stream = streamed_upload(50 * limit)  # a 250 MB part, within the declared length
    response = views.upload(request)
    assert response.status_code == 413 and b"larger than the limit of 5 MB" in response.content
    assert stream.read_bytes < limit + 2 * 2**20  # the limit and Django's read-ahead, not 250 MB


@pytest.mark.usefixtures("cassandra_keyspace")
def test_a_body_declared_past_files_times_size_is_refused_unread(settings):
    request, stream = streamed_upload(10, declared=200 * 2**20)
    response = views.upload(request)
    assert response.status_code == 413 and b"the limit is 100 MB (20 files of 5 MB)" in response.content
    assert stream.read_bytes == 0


@pytest.mark.django_db
def test_a_big_form_met_by_the_csrf_check_is_a_413_page(settings):
    """Outside the recognising views the CSRF check reads forms: its refusal is mapped too, not a 500."""
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    browser.cookies["csrftoken"] = "a" * 32  # with a cookie, the check reads the form's token
    files = [io.BytesIO(b"x") for _ in range(settings.NUMBERFIGURE_MAX_FILES + 1)]
    response = browser.post("/admin/login/", {"file": files})
    assert response.status_code == 413 and "Too many files" in response.content.decode()
