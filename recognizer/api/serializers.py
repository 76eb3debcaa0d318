"""The JSON shapes of the API (also what the OpenAPI schema documents)."""

import uuid
from functools import cache

from django.urls import get_script_prefix, reverse
from rest_framework import serializers

from ..models import SOURCES


class PredictRequestSerializer(serializers.Serializer):
    """Documents the JSON body; multipart (field ``image``, repeatable) and raw ``image/*`` work too."""

    image = serializers.CharField(help_text="The image as a data URL (data:image/png;base64,...) or base64.")
    source = serializers.ChoiceField(choices=SOURCES, default="api", required=False)


class RecognitionSerializer(serializers.Serializer):
    digit = serializers.IntegerField(min_value=0, max_value=9)
    confidence = serializers.FloatField()
    probabilities = serializers.ListField(child=serializers.FloatField(), min_length=10, max_length=10)
    model_version = serializers.CharField()
    unsure = serializers.BooleanField(help_text="True when the confidence is below the 'unsure' threshold.")


class PreviewSerializer(RecognitionSerializer):
    input = serializers.CharField(help_text="The 28×28 image the model saw, as a PNG data URL.")


class PredictionSerializer(RecognitionSerializer):
    """Documents a stored prediction; ``prediction_json`` builds it (a test checks one against the other)."""

    id = serializers.UUIDField()
    source = serializers.ChoiceField(choices=SOURCES)
    created_at = serializers.CharField(help_text="UTC, ISO 8601 with milliseconds: 2026-11-26T09:15:02.123000Z.")
    filename = serializers.CharField(allow_null=True)
    latency_ms = serializers.FloatField()
    corrected_label = serializers.IntegerField(allow_null=True)
    image_url = serializers.URLField(help_text="The original image, byte for byte.")
    input_url = serializers.URLField(help_text="The 28×28 PNG the model saw.")
    url = serializers.URLField(help_text="The page showing this prediction.")


def prediction_json(prediction, request) -> dict:
    """One prediction as PredictionSerializer documents it. Built directly: a DRF serializer
    instance and three URL reversals took longer than the rest of the API's answer."""
    return {
        "digit": prediction.digit,
        "confidence": prediction.confidence,
        "probabilities": list(prediction.probabilities),
        "model_version": prediction.model_version,
        "unsure": prediction.unsure,
        "id": str(prediction.id),
        "source": prediction.source,
        "created_at": prediction.created_at.isoformat() + "Z",  # stored as naive UTC
        "filename": prediction.filename,
        "latency_ms": prediction.latency_ms,
        "corrected_label": prediction.corrected_label,
        "image_url": _url(request, "api-prediction-image", prediction.id),
        "input_url": _url(request, "api-prediction-input", prediction.id),
        "url": _url(request, "prediction_detail", prediction.id),
    }


_ANY_ID = uuid.UUID(int=0)


@cache
def _path_template(script_prefix: str, name: str) -> str:
    """The URL path of ``name`` for a placeholder id, reversed once per script prefix."""
    return reverse(name, args=[_ANY_ID])


def _url(request, name: str, prediction_id: uuid.UUID) -> str:
    path = _path_template(get_script_prefix(), name).replace(str(_ANY_ID), str(prediction_id))
    return request.build_absolute_uri(path)


class CorrectionSerializer(serializers.Serializer):
    corrected_label = serializers.IntegerField(min_value=0, max_value=9, allow_null=True,
                                               help_text="The right digit, or null to clear the correction.")


class PredictionListSerializer(serializers.Serializer):
    results = PredictionSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null at the end.")
