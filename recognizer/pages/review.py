"""The review page: the queued predictions most likely wrong, one at a time, labelled by keyboard.

The page (``static/recognizer/review.js``) fetches items ahead in JSON and sends each decision as
it is made; errors are the middleware's JSON answers (the script asks for JSON).
"""

import base64
import uuid

from django import forms
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..audit.services import audit_record
from ..errors import BadRequest
from ..review.selectors import review_left
from ..review.services import review_label, review_next, review_skip, review_undo
from ..web.queries import DIGITS, PredictionQuery, read_query
from .history import _context, staff_only

MAX_ITEMS = 20
FILTERS = ("digit", "source", "date_from", "date_to")


class Decision(forms.Form):
    action = forms.ChoiceField(choices=[("label", "label"), ("skip", "skip"), ("undo", "undo")])
    label = forms.TypedChoiceField(choices=DIGITS, coerce=int, empty_value=None, required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == "label" and data.get("label") is None:
            raise forms.ValidationError("A label decision needs a label, 0-9.")
        return data


def _item(prediction) -> dict:
    top = sorted(enumerate(prediction.probabilities), key=lambda pair: -pair[1])[:3]
    return {
        "id": str(prediction.id),
        "digit": prediction.digit,
        "top": [{"digit": digit, "probability": round(p, 4)} for digit, p in top],
        "doubt": round(prediction.doubt, 4),
        "source": prediction.source,
        "model_version": prediction.model_version,
        "created_at": prediction.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "image_url": reverse("api-prediction-image", args=[prediction.id]),
        "input_url": "data:image/png;base64," + base64.b64encode(prediction.input_png).decode(),
        "detail_url": reverse("history_detail", args=[prediction.id]),
    }


def _exclude(value: str) -> set[uuid.UUID]:
    try:
        return {uuid.UUID(part) for part in value.split(",") if part}
    except ValueError:
        raise BadRequest("exclude: give prediction ids separated by commas.") from None


@require_GET
@staff_only
def review_page(request):
    form = PredictionQuery(request.GET)
    if not form.is_valid():
        return render(request, "recognizer/review.html", _context(request, "Review", form=form, fields=FILTERS),
                      status=400)
    query = request.GET.copy()
    return render(request, "recognizer/review.html", _context(
        request, "Review", form=form, fields=FILTERS, left=review_left(filters=form.filters()),
        items_url=reverse("review_items") + ("?" + query.urlencode() if query else ""),
    ))


@require_GET
@staff_only
def review_items(request):
    """The next items for this reviewer (leased to them for a few seconds), and how many are left."""
    filters = read_query(request.GET).filters()
    try:
        count = min(MAX_ITEMS, max(1, int(request.GET.get("count", 5))))
    except ValueError:
        raise BadRequest("count: give a whole number.") from None
    items = review_next(user=request.user.get_username(), filters=filters, count=count,
                        exclude=_exclude(request.GET.get("exclude", "")))
    return JsonResponse({"items": [_item(p) for p in items], "left": review_left(filters=filters)})


@require_POST
@staff_only
def review_decide(request, prediction_id):
    """One decision: label it (its own digit confirms it), skip it, or undo the last decision on it."""
    form = Decision(request.POST)
    if not form.is_valid():
        raise BadRequest(" ".join(" ".join(errors) for errors in form.errors.values()))
    action, label, user = form.cleaned_data["action"], form.cleaned_data["label"], request.user.get_username()
    if action == "skip":
        review_skip(prediction_id=prediction_id)
        return JsonResponse({"id": str(prediction_id), "skipped": True})
    if action == "label":
        before, prediction = None, review_label(prediction_id=prediction_id, label=label, user=user)
    else:
        before, prediction = review_undo(prediction_id=prediction_id, user=user)
    audit_record(request=request, action="prediction.correct", target=str(prediction_id),
                 change={"corrected_label": [before, prediction.corrected_label], "via": f"review {action}"})
    return JsonResponse({"id": str(prediction_id), "label": prediction.corrected_label,
                         "confirmed": prediction.corrected_label == prediction.digit})
