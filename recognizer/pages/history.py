"""The operator's side: history, one prediction with its correction form, stats, exports.

Pages use the admin's templates and context so staff find them beside users and groups.
"""

from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth.decorators import user_passes_test
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import exports
from ..audit.services import audit_record
from ..selectors import prediction_get, prediction_iter, prediction_stats
from ..services import prediction_correct, prediction_delete
from ..web import drift_panel
from ..web.access import can_change, can_read_history
from ..web.queries import PredictionQuery, cursor_query, prediction_page, read_query
from .forms import CorrectionForm

staff_only = user_passes_test(can_change, login_url=reverse_lazy("admin:login"))


def history_viewer(view):
    """Open to the users ``access.can_read_history`` lets in; others are sent to log in."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_read_history(request.user):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapped


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, "can_change": can_change(request.user), **extra}


@require_GET
@history_viewer
def history_list(request):
    form = PredictionQuery(request.GET)
    if not form.is_valid():
        return render(request, "recognizer/history/list.html",
                      _context(request, "Predictions", form=form, rows=[]), status=400)
    page = prediction_page(form)
    return render(request, "recognizer/history/list.html", _context(
        request, "Predictions", form=form, rows=page.rows,
        newer_url="?" + cursor_query(request.GET, after=page.newer) if page.newer else None,
        older_url="?" + cursor_query(request.GET, before=page.older) if page.older else None,
        export_query=cursor_query(request.GET),
    ))


@require_http_methods(["GET", "POST"])
@history_viewer
def history_detail(request, prediction_id):
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise Http404("No such prediction.")
    form = CorrectionForm(initial={"label": prediction.corrected_label})
    if request.method == "POST":
        if not can_change(request.user):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        form = CorrectionForm(request.POST)
        if form.is_valid():
            label, user, before = form.cleaned_data["label"], request.user.get_username(), prediction.corrected_label
            prediction_correct(prediction=prediction, label=label, user=user)
            audit_record(request=request, action="prediction.correct", target=str(prediction.id),
                         change={"corrected_label": [before, label]})
            messages.success(request, "The correction was saved.")
            return redirect("history_detail", prediction_id=prediction.id)
    probabilities = list(enumerate(prediction.probabilities))
    return render(request, "recognizer/history/detail.html", _context(
        request, f"Prediction {prediction.id}", prediction=prediction, form=form, probabilities=probabilities,
    ), status=400 if form.errors else 200)


@require_POST
@staff_only
def history_delete(request, prediction_id):
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise Http404("No such prediction.")
    prediction_delete(prediction=prediction)
    audit_record(request=request, action="prediction.delete", target=str(prediction.id))
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
        **drift_panel.context(),
    ))


@require_GET
@history_viewer
def export(request, fmt: str):
    """Every matching prediction as CSV or JSON Lines, streamed page by page; bad filters are a 400 page."""
    rows = prediction_iter(filters=read_query(request.GET).filters())
    audit_record(request=request, action="predictions.export", target=request.GET.urlencode(), change={"format": fmt})
    with_corrector = can_change(request.user)  # staff user names are for staff
    lines = (exports.csv_lines if fmt == "csv" else exports.jsonl_lines)(rows, with_corrector=with_corrector)
    response = StreamingHttpResponse(lines, content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="predictions.{fmt}"'
    return response
