"""The list query of the history pages, their exports and the API: one form, no Cassandra needed."""

import dataclasses
import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from django.http import QueryDict

from recognizer.errors import BadRequest
from recognizer.models import SOURCES
from recognizer.selectors import Filters
from recognizer.web.queries import PAGE_SIZE, PredictionQuery, cursor_query, page_from, read_query

TIME_ID = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")  # version 1, as prediction ids are
RANDOM_ID = uuid.UUID("6f1c4c84-8f55-4b43-9f9b-0a5d2a7f0d1e")  # version 4: cannot name a prediction


def query(text: str) -> PredictionQuery:
    return read_query(QueryDict(text))


def test_every_filter_reaches_the_storage_filters():
    data = query("digit=3&label=5&source=draw&date_from=2026-01-02&date_to=2026-01-31&before=" + str(TIME_ID))
    assert data.filters() == Filters(digit=3, label=5, source="draw", date_from=dt.date(2026, 1, 2),
                                     date_to=dt.date(2026, 1, 31))
    assert data.cleaned_data["before"] == TIME_ID and data.cleaned_data["after"] is None


def test_no_or_empty_parameters_mean_no_filter():
    assert query("").filters() == query("digit=&label=&source=&date_from=&date_to=").filters() == Filters()
    assert query("").filters().key == "all"


def test_the_form_and_the_storage_filters_name_the_same_filters():
    """A new filter is a field in both; the paging fields are the form's own."""
    form_filters = set(PredictionQuery.base_fields) - set(PredictionQuery.PAGING)
    storage_filters = {field.name for field in dataclasses.fields(Filters)} - {"labelled"}
    assert form_filters == storage_filters


@pytest.mark.parametrize(("text", "named"), [
    ("digit=10", "digit"),
    ("digit=x", "digit"),
    ("label=-1", "label"),
    ("source=robot", "source"),
    ("date_from=yesterday", "date_from"),
    ("date_from=2026-02-02&date_to=2026-01-01", "'From' must not be after 'To'"),
    ("before=nonsense", "before"),
    (f"before={RANDOM_ID}", "before"),
    (f"after={RANDOM_ID}", "after"),
    (f"before={TIME_ID}&after={TIME_ID}", "not both"),
    ("limit=0", "limit"),
    (f"limit={201}", "limit"),
    ("limit=x", "limit"),
])
def test_bad_parameters_are_a_bad_request_that_names_them(text, named):
    with pytest.raises(BadRequest) as refused:
        query(text)
    assert named in refused.value.message
    assert refused.value.status == 400


def rows(*ids: int) -> list:
    return [SimpleNamespace(id=n) for n in ids]


def test_first_page_links_only_to_older_rows():
    page = page_from(rows(9, 8, 7), limit=2, before=None, after=None)
    assert [r.id for r in page.rows] == [9, 8] and page.newer is None and page.older == 8


def test_a_page_that_reaches_the_end_has_no_older_link():
    page = page_from(rows(3, 2), limit=2, before=TIME_ID, after=None)
    assert [r.id for r in page.rows] == [3, 2] and page.newer == 3 and page.older is None


def test_a_page_read_towards_newer_rows_drops_the_extra_newest_row():
    page = page_from(rows(9, 8, 7), limit=2, before=None, after=TIME_ID)
    assert [r.id for r in page.rows] == [8, 7] and page.newer == 8 and page.older == 7
    newest = page_from(rows(8, 7), limit=2, before=None, after=TIME_ID)
    assert newest.newer is None and newest.older == 7


def test_an_empty_page_links_nowhere():
    page = page_from([], limit=PAGE_SIZE, before=TIME_ID, after=None)
    assert page.rows == [] and page.newer is None and page.older is None


def test_links_keep_the_filters_and_replace_the_cursor():
    params = QueryDict(f"digit=3&source=draw&after={RANDOM_ID}&limit=5")
    assert QueryDict(cursor_query(params, before=TIME_ID)) == QueryDict(f"digit=3&source=draw&limit=5&before={TIME_ID}")
    assert QueryDict(cursor_query(params)) == QueryDict("digit=3&source=draw&limit=5")


@pytest.mark.django_db
def test_the_api_documents_exactly_the_query_it_reads(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()  # listed to readers
    parameters = {p["name"]: p for p in schema["paths"]["/api/predictions"]["get"]["parameters"]}
    assert set(parameters) == set(PredictionQuery.base_fields)
    assert parameters["digit"]["schema"] == {"type": "integer", "enum": list(range(10))}
    assert sorted(parameters["source"]["schema"]["enum"]) == sorted(SOURCES)
    assert parameters["date_from"]["schema"]["format"] == "date"
    assert parameters["before"]["schema"]["format"] == "uuid"
    assert all(p["description"] for p in parameters.values())
