"""Every error becomes one status and one message, the same on pages, API and old routes.
No Cassandra: each request here is refused before anything is read or stored."""

import datetime as dt

import pytest
from cassandra.cluster import NoHostAvailable
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import Resolver404

from recognizer import errors
from recognizer.storage.records import utc_timestamp
from recognizer.web.middleware import ProblemMiddleware
from recognizer.web.problems import NOT_FOUND, Problem, problem_for


@pytest.mark.parametrize(("kind", "status"), [
    (errors.BadRequest, 400),
    (errors.UploadTooLarge, 413),
    (errors.TooManyFiles, 413),
    (errors.TooManyPixels, 413),
    (errors.UnsupportedImage, 415),
    (errors.CorruptImage, 422),
    (errors.NoDigitFound, 422),
    (errors.InvalidImage, 422),
    (errors.RateLimited, 429),
])
def test_each_product_error_has_its_own_status(kind, status):
    assert problem_for(kind("Told to the user.")) == Problem(status, "Told to the user.")


def test_request_limits_and_storage_outages_have_their_status():
    assert problem_for(RequestDataTooBig("internal")).status == 413
    assert problem_for(Http404("No such prediction.")) == Problem(404, "No such prediction.")
    assert problem_for(Resolver404({"path": "x", "tried": []})) == Problem(404, NOT_FOUND)  # no internals
    assert problem_for(errors.UploadTooLarge("Too big.")) == Problem(413, "Too big.")  # also a SuspiciousOperation
    assert problem_for(SuspiciousOperation("Bad multipart.")) == Problem(400, "Bad multipart.")
    assert problem_for(NoHostAvailable("no host", {})).status == 503


@pytest.mark.parametrize("bug", [ValueError("bug"), KeyError("bug"), RecursionError(), TypeError("bug")])
def test_a_bug_is_no_refusal(bug):
    assert problem_for(bug) is None


def test_the_kinds_do_not_overlap():
    assert not issubclass(errors.TooManyFiles, errors.InvalidImage)
    assert not issubclass(errors.BadRequest, ValueError)
    assert not issubclass(errors.CorruptImage, errors.UnsupportedImage)


def test_middleware_answers_json_on_the_api_and_a_page_elsewhere():
    middleware = ProblemMiddleware(lambda request: None)
    api = middleware.process_exception(RequestFactory().get("/api/predictions"), errors.BadRequest("Bad digit."))
    assert api.status_code == 400 and api["Content-Type"] == "application/json"
    page = middleware.process_exception(RequestFactory().get("/history/export.csv"), errors.BadRequest("Bad digit."))
    page.render()
    assert page.status_code == 400 and "Bad digit." in page.content.decode()
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None


@pytest.mark.parametrize(("body", "words"), [
    ("{", "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
    ('{"filedata": "data:image/png;base64,@@"}', "not valid base64"),
    ('["not", "an object"]', "Missing field 'filedata'"),
])
def test_old_route_refuses_bad_json_in_its_own_shape(client, body, words):
    response = client.post("/upload3", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["status"] == "error" and words in response.json()["error"]


def test_a_bug_in_a_view_is_a_500_not_a_400(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug, not the client's fault")

    monkeypatch.setattr("recognizer.pages.legacy.decode_image_text", broken)
    response = Client(raise_request_exception=False).post("/upload3", {"filedata": "data:image/png;base64,AAAA"})
    assert response.status_code == 500


def test_api_list_refuses_a_bad_filter_as_json(client, settings):
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    response = client.get("/api/predictions", {"digit": "10", "after": "nonsense"})
    assert response.status_code == 400
    assert "digit" in response.json()["error"] and "after" in response.json()["error"]


def test_history_export_refuses_a_bad_filter_with_a_page(client, settings):
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    response = client.get("/history/export.csv", {"source": "robot"})
    assert response.status_code == 400 and "source" in response.content.decode()


def test_upload_page_without_a_file_asks_for_one(client):
    response = client.post("/upload", {})
    assert response.status_code == 400 and "Choose" in response.context["error"]


@pytest.mark.parametrize(("microsecond", "text"), [(0, "09:15:02.000Z"), (120_000, "09:15:02.120Z"),
                                                   (123_999, "09:15:02.123Z")])
def test_timestamps_always_have_milliseconds(microsecond, text):
    assert utc_timestamp(dt.datetime(2026, 11, 26, 9, 15, 2, microsecond)) == "2026-11-26T" + text
    assert utc_timestamp(None) is None
