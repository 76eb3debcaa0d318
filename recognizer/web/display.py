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
    from ..recognition import Recognition


def is_unsure(confidence: float) -> bool:
    """Whether an answer is too doubtful to show without a warning (``UNSURE_BELOW``): the API's
    ``unsure`` and the templates' ``|unsure`` filter."""
    return confidence < settings.NUMBERFIGURE_UNSURE_BELOW




def recognition_json(recognition: "Recognition | StoredPrediction") -> dict:
    """The model's answer: the part every answer shares (the preview is this and its input)."""
    return {
        "digit": recognition.digit,
        "confidence": recognition.confidence,
        "probabilities": list(recognition.probabilities),
        "model_version": recognition.model_version,
        "unsure": is_unsure(recognition.confidence),
    }


def preview_json(recognition: "Recognition") -> dict:
    return {**recognition_json(recognition),
            "input": "data:image/png;base64," + base64.b64encode(recognition.input_png).decode()}


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
    }


def page_result(prediction: StoredPrediction, request) -> dict:
    """What the result widget shows for a prediction just made: while it waits in the outbox its
    stored copies do not exist yet, so the input is inlined and there is no link."""
    result = prediction_json(prediction, request)
    if prediction.pending:
        result.update(input_url="data:image/png;base64," + base64.b64encode(prediction.input_png).decode(), url=None)
    return result


# The result widget's template copy on the draw page, filled in by draw.js: every optional part present.
WIDGET_TEMPLATE = {"digit": "", "confidence": 0, "probabilities": [0.0] * 10, "input_url": "", "url": "#",
                   "unsure": True}


_ANY_ID = uuid.UUID(int=0)


@cache
def _path_template(script_prefix: str, name: str) -> str:
    """The URL path of ``name`` for a placeholder id, reversed once per script prefix."""
    return reverse(name, args=[_ANY_ID])


def _url(request, name: str, prediction_id: uuid.UUID) -> str:
    path = _path_template(get_script_prefix(), name).replace(str(_ANY_ID), str(prediction_id))
    return request.build_absolute_uri(path)
