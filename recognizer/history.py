"""The operator's side: history, one prediction with its correction form, stats, exports.

Pages use the admin's templates and context so staff find them beside users and groups.
"""

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import exports
from .forms import CorrectionForm, HistoryFilterForm
from .selectors import Filters, prediction_get, prediction_iter, prediction_list, prediction_stats
from .services import prediction_correct, prediction_delete

PAGE_SIZE = 50


def history_viewer(view):
    """Open to all when ``NUMBERFIGURE_HISTORY_PUBLIC``, else to logged-in users."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (settings.NUMBERFIGURE_HISTORY_PUBLIC or request.user.is_authenticated):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapped


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _filters(request) -> tuple[HistoryFilterForm, Filters | None]:
    form = HistoryFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, Filters(digit=data["digit"], label=data["label"], source=data["source"] or None,
                         date_from=data["date_from"], date_to=data["date_to"])


def _cursor(value: str | None) -> uuid.UUID | None:
    """A paging cursor: a prediction id (TimeUUID); anything else means "from the newest"."""
    try:
        parsed = uuid.UUID(value) if value else None
    except ValueError:
        return None
    return parsed if parsed and parsed.version == 1 else None


@require_GET
@history_viewer
def history_list(request):
    form, filters = _filters(request)
    if filters is None:
        return render(request, "recognizer/history/list.html",
                      _context(request, "Predictions", form=form, rows=[]), status=400)
    before, after = _cursor(request.GET.get("before")), _cursor(request.GET.get("after"))
    rows = prediction_list(before=before, after=after, limit=PAGE_SIZE + 1, filters=filters)
    if after:  # came back from an older page: the extra row, if any, is on the newer side
        has_newer, has_older, rows = len(rows) > PAGE_SIZE, True, rows[-PAGE_SIZE:]
    else:
        has_newer, has_older, rows = before is not None, len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    query = request.GET.copy()
    for name in ("before", "after"):
        query.pop(name, None)

    def link(**cursor):
        return "?" + "&".join(filter(None, [query.urlencode(), *(f"{k}={v}" for k, v in cursor.items())]))

    return render(request, "recognizer/history/list.html", _context(
        request, "Predictions", form=form, rows=rows,
        newer_url=link(after=rows[0].id) if rows and has_newer else None,
        older_url=link(before=rows[-1].id) if rows and has_older else None,
        export_query=query.urlencode(),
        can_change=request.user.is_active and request.user.is_staff,
    ))


@require_http_methods(["GET", "POST"])
@history_viewer
def history_detail(request, prediction_id):
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise Http404("No such prediction.")
    form = CorrectionForm(initial={"label": prediction.corrected_label})
    if request.method == "POST":
        if not (request.user.is_active and request.user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        form = CorrectionForm(request.POST)
        if form.is_valid():
            label, user = form.cleaned_data["label"], request.user.get_username()
            prediction_correct(prediction=prediction, label=label, user=user)
            messages.success(request, "The correction was saved.")
            return redirect("history_detail", prediction_id=prediction.id)
    probabilities = list(enumerate(prediction.probabilities))
    return render(request, "recognizer/history/detail.html", _context(
        request, f"Prediction {prediction.id}", prediction=prediction, form=form, probabilities=probabilities,
        can_change=request.user.is_active and request.user.is_staff,
    ), status=400 if form.errors else 200)


@require_POST
@staff_member_required
def history_delete(request, prediction_id):
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise Http404("No such prediction.")
    prediction_delete(prediction=prediction)
    messages.success(request, f"Prediction {prediction.id} was deleted.")
    return redirect("history")


@require_GET
@history_viewer
def stats(request):
    figures = prediction_stats()
    return render(request, "recognizer/history/stats.html", _context(
        request, "Statistics", stats=figures, day_max=max(figures.by_day.values(), default=0) or 1,
        digit_max=max(figures.by_digit.values(), default=0) or 1,
        confusion_max=max(map(max, figures.confusion)) or 1,
    ))


@require_GET
@history_viewer
def export(request, fmt: str):
    """Every matching prediction as CSV or JSON Lines, streamed page by page."""
    _, filters = _filters(request)
    if filters is None:
        return HttpResponseBadRequest("Invalid filters.")
    rows = prediction_iter(filters=filters)
    lines = exports.csv_lines(rows) if fmt == "csv" else exports.jsonl_lines(rows)
    response = StreamingHttpResponse(lines, content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="predictions.{fmt}"'
    return response

