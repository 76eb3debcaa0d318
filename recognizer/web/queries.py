"""What a list of stored predictions is asked for, validated one way for the history pages, their
exports and the API (whose OpenAPI parameters are made from the same form).

A filter on a stored value (like ``digit``, ``label``, ``source``) is read from an index, so a new
one touches five places:

1. a field of ``PredictionQuery`` (the pages, the exports and the OpenAPI parameters follow);
2. a field of ``selectors.Filters``, passed on by ``Filters.key``;
3. its name in ``storage/keys.FILTERS`` and a keyword of ``filter_key`` and ``filter_keys``;
4. ``storage/keys.keys_of`` and ``possible_keys`` reading it from a row (what ``storage/writes``,
   ``storage/paging`` and ``storage/repair`` list and check a prediction under);
5. a backfill: rows stored before it are in no index of it until ``manage.py repair_indexes``
   writes every row's entries again (then ``recount_stats`` if a stat counts it).

A filter on time (``date_from``, ``date_to``) needs only 1 and 2: it picks the months and buckets read.
"""

import uuid
from dataclasses import dataclass

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict

from ..errors import BadRequest
from ..models import SOURCES
from ..selectors import Filters, StoredPrediction, prediction_list

DIGITS = [(str(d), str(d)) for d in range(10)]
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class PredictionIdField(forms.UUIDField):
    """A prediction id: a TimeUUID (a UUID of another version cannot name a prediction)."""

    default_error_messages = {"invalid": "Enter a prediction id."}

    def to_python(self, value) -> uuid.UUID | None:
        value = super().to_python(value)
        if value is not None and value.version != 1:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value


class PredictionQuery(forms.Form):
    """Filters (shown on the history page), then paging (cursors and size); all optional."""

    digit = forms.TypedChoiceField(choices=[("", "Any")] + DIGITS, coerce=int, empty_value=None, required=False,
                                   help_text="Only predictions of this digit.")
    label = forms.TypedChoiceField(choices=[("", "Any")] + DIGITS, coerce=int, empty_value=None, required=False,
                                   label="Corrected label", help_text="Only predictions corrected to this digit.")
    source = forms.TypedChoiceField(choices=[("", "Any")] + [(s, s) for s in SOURCES], empty_value=None,
                                    required=False, help_text="Only predictions from this source.")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="Only predictions made on or after this UTC day (YYYY-MM-DD).")
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}),
                              help_text="Only predictions made on or before this UTC day (YYYY-MM-DD).")
    before = PredictionIdField(required=False, widget=forms.HiddenInput,
                               help_text="Cursor: the page of predictions older than this id.")
    after = PredictionIdField(required=False, widget=forms.HiddenInput,
                              help_text="Cursor: the page of predictions newer than this id.")
    limit = forms.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False, widget=forms.HiddenInput,
                               help_text=f"Page size, 1–{MAX_PAGE_SIZE} (default {PAGE_SIZE}).")

    PAGING = ("before", "after", "limit")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("'From' must not be after 'To'.")
        if data.get("before") and data.get("after"):
            raise forms.ValidationError("Give one cursor, 'before' or 'after', not both.")
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(**{name: data[name] for name in self.fields if name not in self.PAGING})

    def problem(self) -> str:
        """The errors as one sentence for the client."""
        return " ".join(
            f"{name}: {' '.join(errors)}" if name != NON_FIELD_ERRORS else " ".join(errors)
            for name, errors in self.errors.items()
        )


def read_query(params) -> PredictionQuery:
    """A valid query from a request's query string, or BadRequest (400) saying what is wrong."""
    query = PredictionQuery(params)
    if not query.is_valid():
        raise BadRequest(query.problem())
    return query


@dataclass(frozen=True)
class Page:
    rows: list[StoredPrediction]
    newer: uuid.UUID | None  # the ``after`` cursor of the newer page, if there is one
    older: uuid.UUID | None  # the ``before`` cursor of the older page, if there is one


def page_from(rows: list[StoredPrediction], *, limit: int, before: uuid.UUID | None, after: uuid.UUID | None) -> Page:
    """A page, from up to ``limit + 1`` rows read newest first at the cursor: the extra row tells
    whether there is more on the side the read walked to."""
    if after:  # walked to newer rows: the extra row, if any, is on the newer side
        has_newer, has_older, rows = len(rows) > limit, True, rows[-limit:]
    else:
        has_newer, has_older, rows = before is not None, len(rows) > limit, rows[:limit]
    return Page(
        rows=rows,
        newer=rows[0].id if rows and has_newer else None,
        older=rows[-1].id if rows and has_older else None,
    )


def prediction_page(query: PredictionQuery) -> Page:
    """The page of stored predictions a valid query asks for."""
    data = query.cleaned_data
    limit = data["limit"] or PAGE_SIZE
    rows = prediction_list(before=data["before"], after=data["after"], limit=limit + 1, filters=query.filters())
    return page_from(rows, limit=limit, before=data["before"], after=data["after"])


def cursor_query(params: QueryDict, **cursor: uuid.UUID) -> str:
    """The query string of ``params`` (filters, page size) with its cursor replaced by ``cursor``."""
    query = params.copy()
    for name in ("before", "after"):
        query.pop(name, None)
    for name, value in cursor.items():
        query[name] = str(value)
    return query.urlencode()
