"""The JSON shapes of the API (also what the OpenAPI schema documents)."""

import datetime as dt

from django.urls import reverse
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
    id = serializers.UUIDField()
    source = serializers.ChoiceField(choices=SOURCES)
    created_at = serializers.SerializerMethodField()
    filename = serializers.CharField(allow_null=True)
    latency_ms = serializers.FloatField()
    corrected_label = serializers.IntegerField(allow_null=True)
    image_url = serializers.SerializerMethodField()
    input_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The page showing this prediction.")

    def to_representation(self, prediction) -> dict:
        """The fields above, built directly: DRF's field-by-field path took longer than the rest of
        the response. The declared fields still document it; a test checks answers against them."""
        return {
            "digit": prediction.digit,
            "confidence": prediction.confidence,
            "probabilities": list(prediction.probabilities),
            "model_version": prediction.model_version,
            "unsure": prediction.unsure,
            "id": str(prediction.id),
            "source": prediction.source,
            "created_at": self.get_created_at(prediction),
            "filename": prediction.filename,
            "latency_ms": prediction.latency_ms,
            "corrected_label": prediction.corrected_label,
            "image_url": self.get_image_url(prediction),
            "input_url": self.get_input_url(prediction),
            "url": self.get_url(prediction),
        }

    def get_created_at(self, prediction) -> str:
        return prediction.created_at.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")

    def _absolute(self, name: str, prediction) -> str:
        return self.context["request"].build_absolute_uri(reverse(name, args=[prediction.id]))

    def get_image_url(self, prediction) -> str:
        return self._absolute("api-prediction-image", prediction)

    def get_input_url(self, prediction) -> str:
        return self._absolute("api-prediction-input", prediction)

    def get_url(self, prediction) -> str:
        return self._absolute("prediction_detail", prediction)


class CorrectionSerializer(serializers.Serializer):
    corrected_label = serializers.IntegerField(min_value=0, max_value=9, allow_null=True,
                                               help_text="The right digit, or null to clear the correction.")


class PredictionListSerializer(serializers.Serializer):
    results = PredictionSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null at the end.")
