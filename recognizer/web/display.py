"""How a recognition or a stored prediction is shown: the API's JSON, which is also what the
result widget (``templates/recognizer/_result.html``) is rendered from, on pages and by draw.js."""

import base64
import uuid
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import get_script_prefix, reverse

from ..selectors import StoredPrediction
from ..storage.records import utc_timestamp

if TYPE_CHECKING:  # only named: importing it would bring the model runtime to the template tag
    from ..recognition import DigitReading, Recognition


def is_unsure(confidence: float) -> bool:
    """Whether an answer is too doubtful to show without a warning (``UNSURE_BELOW``): the API's
    ``unsure`` and the templates' ``|unsure`` filter."""
    return confidence < settings.NUMBERFIGURE_UNSURE_BELOW




def recognition_json(recognition: "Recognition | DigitReading | StoredPrediction", model_version: str = "") -> dict:
    """The model's answer: the part every answer shares (the preview is this and its input)."""
    return {
        "digit": recognition.digit,
        "confidence": recognition.confidence,
        "probabilities": list(recognition.probabilities),
        "model_version": model_version or recognition.model_version,
        "unsure": is_unsure(recognition.confidence),
    }


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _box(box) -> dict | None:
    return dict(zip(("left", "top", "width", "height"), box, strict=True)) if box else None


def preview_json(recognition: "Recognition") -> dict:
    """The single-digit fields are the first digit's; ``number`` and ``digits`` hold them all."""
    return {**recognition_json(recognition), "input": _data_url(recognition.input_png),
            "number": recognition.number,
            "digits": [{**recognition_json(reading, recognition.model_version), "box": _box(reading.box),
                        "input": _data_url(reading.input_png)} for reading in recognition.digits]}


def picture_json(digits: list[StoredPrediction], request, *, inline_pending: bool = False,
                 top: StoredPrediction | None = None) -> dict:
    """A picture's stored digits (reading order) as one answer: the fields of one prediction (``top``,
    by default the first digit: one digit answers as it always has), ``number`` and ``digits``, one
    entry each. ``inline_pending``: a digit still in the outbox shows its input inline and no link (pages)."""
    entries = [digit_json(digit, request, inline_pending=inline_pending) for digit in digits]
    first = entries[0] if top is None else digit_json(top, request, inline_pending=inline_pending)
    return {**first, "number": "".join(str(digit.digit) for digit in digits),
            "digits": [{name: entry[name] for name in DIGIT_FIELDS} for entry in entries]}


DIGIT_FIELDS = ("id", "digit", "confidence", "probabilities", "model_version", "unsure", "corrected_label", "box",
                "input_url", "url")


def digit_json(prediction: StoredPrediction, request, *, inline_pending: bool = False) -> dict:
    result = prediction_json(prediction, request)
    if inline_pending and prediction.pending:
        result.update(input_url=_data_url(prediction.input_png), url=None)
    return result


def prediction_json(prediction: StoredPrediction, request) -> dict:
    """One stored prediction as ``api.serializers.PredictionSerializer`` documents it. Built directly:
    a DRF serializer instance and three URL reversals took longer than the rest of the API's answer."""
    return {
        **recognition_json(prediction),
        "id": str(prediction.id),
        "source": prediction.source,
        "created_at": utc_timestamp(prediction.created_at),
        "filename": prediction.filename,
        "latency_ms": prediction.latency_ms,
        "corrected_label": prediction.corrected_label,
        "image_url": _url(request, "api-prediction-image", prediction.id),
        "input_url": _url(request, "api-prediction-input", prediction.id),
        "url": _url(request, "prediction_detail", prediction.id),
        "stored": "pending" if prediction.pending else "yes",
        "picture_id": str(prediction.picture),
        "position": prediction.position or 0,
        "box": _box(prediction.box),
    }


def page_result(digits: list[StoredPrediction], request) -> dict:
    """What the result widget shows for a picture just read: while its digits wait in the outbox
    their stored copies do not exist yet, so the inputs are inlined and there are no links."""
    return picture_json(digits, request, inline_pending=True)


# The result widget's template copy on the draw page, filled in by draw.js: every optional part present,
# one placeholder digit of a number, copied for each digit read.
_WIDGET_DIGIT = {"digit": "", "confidence": 0, "probabilities": [0.0] * 10, "input_url": "", "url": "#",
                 "box": _box([0, 0, 0, 0])}
WIDGET_TEMPLATE = {**_WIDGET_DIGIT, "unsure": True, "number": "", "image_url": "", "widget": True,
                   "digits": [_WIDGET_DIGIT]}


_ANY_ID = uuid.UUID(int=0)


@cache
def _path_template(script_prefix: str, name: str) -> str:
    """The URL path of ``name`` for a placeholder id, reversed once per script prefix."""
    return reverse(name, args=[_ANY_ID])


def _url(request, name: str, prediction_id: uuid.UUID) -> str:
    path = _path_template(get_script_prefix(), name).replace(str(_ANY_ID), str(prediction_id))
    return request.build_absolute_uri(path)
