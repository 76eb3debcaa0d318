"""The JSON shapes of the API (also what the OpenAPI schema documents)."""

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


class BoxSerializer(serializers.Serializer):
    left = serializers.IntegerField()
    top = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class PreviewDigitSerializer(RecognitionSerializer):
    box = BoxSerializer(help_text="Where the digit lies in the picture, in its pixels (upright).")
    input = serializers.CharField(help_text="The 28×28 image the model saw, as a PNG data URL.")


NUMBER_HELP = "Every digit read in the picture, left to right (a second line after the first): '2026'; '7' for one."
SINGLE_HELP = " With several digits, `digit`, `confidence`, `probabilities` and the input are the first digit's."


class PreviewSerializer(RecognitionSerializer):
    input = serializers.CharField(help_text="The 28×28 image the model saw, as a PNG data URL." + SINGLE_HELP)
    number = serializers.CharField(help_text=NUMBER_HELP)
    digits = PreviewDigitSerializer(many=True, help_text="One entry per digit, in the order of `number`.")


class PredictionSerializer(RecognitionSerializer):
    """Documents a stored prediction; ``web.display.prediction_json`` builds it (a test compares them)."""

    id = serializers.UUIDField()
    source = serializers.ChoiceField(choices=SOURCES)
    created_at = serializers.CharField(help_text="UTC, ISO 8601 with milliseconds: 2026-11-26T09:15:02.123Z.")
    filename = serializers.CharField(allow_null=True)
    latency_ms = serializers.FloatField()
    corrected_label = serializers.IntegerField(allow_null=True)
    image_url = serializers.URLField(help_text="The original image, without its metadata (EXIF, GPS, text).")
    input_url = serializers.URLField(help_text="The 28×28 PNG the model saw.")
    url = serializers.URLField(help_text="The page showing this prediction.")
    stored = serializers.ChoiceField(
        choices=["yes", "pending"],
        help_text="'pending' (with status 202) when Cassandra could not take it yet: it is kept in the "
        "server's outbox and stored under this id as soon as Cassandra answers; until then its URLs are 404.")
    picture_id = serializers.UUIDField(help_text="The picture this digit was read in: the id of its first digit "
                                       "(its own for a picture of one digit).")
    position = serializers.IntegerField(help_text="Its place in the picture's number, 0 = the first.")
    box = BoxSerializer(allow_null=True, help_text="Where the digit lies in the picture (null when stored "
                        "before pictures of several digits were read).")


class DigitSerializer(RecognitionSerializer):
    id = serializers.UUIDField(help_text="This digit's own prediction: corrected, deleted, listed on its own.")
    corrected_label = serializers.IntegerField(allow_null=True)
    box = BoxSerializer(allow_null=True)
    input_url = serializers.URLField()
    url = serializers.URLField()


class PictureSerializer(PredictionSerializer):
    """A recognition's answer, and a stored prediction read by id: the prediction's fields (with several
    digits, the first digit's, or the one read) and the picture's whole number."""

    number = serializers.CharField(help_text=NUMBER_HELP)
    digits = DigitSerializer(many=True, help_text="One entry per digit, in the order of `number`.")


class CorrectionSerializer(serializers.Serializer):
    corrected_label = serializers.IntegerField(min_value=0, max_value=9, allow_null=True,
                                               help_text="The right digit, or null to clear the correction.")


class PredictionListSerializer(serializers.Serializer):
    results = PredictionSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null at the end.")
    previous = serializers.URLField(allow_null=True, help_text="The previous (newer) page, or null at the start.")
