"""The JSON API: recognise images, read stored predictions and their images."""

import base64
import uuid

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import SOURCES
from ..recognition import ImageUpload, check_size, recognize
from ..selectors import Filters, prediction_get, prediction_image_get, prediction_list
from ..services import prediction_correct, prediction_delete, predictions_create
from ..uploads import BadRequest, decode_image_text, uploads_from_files
from . import serializers
from .errors import error_response

ERRORS = {code: OpenApiResponse(description=text) for code, text in {
    400: "Malformed request: bad JSON or base64, missing field.",
    413: "Too large: bytes, pixels, or number of files.",
    415: "Not an image format we read (PNG, JPEG, GIF, BMP, WebP, TIFF).",
    422: "An image, but corrupt, or with no digit in it.",
}.items()}


class RawImageParser(parsers.BaseParser):
    """A raw ``image/*`` request body is the image itself."""

    media_type = "image/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        """Read at most one byte over the limit: a bigger body is refused without holding it."""
        limit = settings.NUMBERFIGURE_MAX_UPLOAD_BYTES
        data = stream.read(limit + 1) if stream else b""
        check_size(size=len(data))
        return data


class RecognitionView(APIView):
    """Shared request reading for the endpoints that take images."""

    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, RawImageParser]
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def read(self, request: Request) -> tuple[list[ImageUpload], str]:
        """The uploads and the declared source, or a 4xx error."""
        if request.content_type.startswith("image/"):
            return [ImageUpload(data=request.data)], "api"
        data = request.data
        if not hasattr(data, "get"):
            raise BadRequest("The JSON body must be an object like {\"image\": \"data:image/png;base64,...\"}.")
        source = data.get("source") or "api"
        if source not in SOURCES:
            raise BadRequest(f"Field 'source' must be one of: {', '.join(SOURCES)}.")
        files = request.FILES.getlist("image") if request.FILES else []
        if files:
            return uploads_from_files(files), source
        if data.get("image") is None:
            raise BadRequest("Missing field 'image': send a file, a data URL or base64.")
        return [decode_image_text(data.get("image"), field="image")], source

    def handle_exception(self, exc):
        if isinstance(exc, BadRequest):
            return error_response(exc.message, 400)
        return super().handle_exception(exc)


class PredictView(RecognitionView):
    @extend_schema(
        summary="Recognise and store one or more images",
        request={
            "application/json": serializers.PredictRequestSerializer,
            "multipart/form-data": {"type": "object", "properties": {
                "image": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "source": {"type": "string", "enum": list(SOURCES)}}},
            "image/*": {"type": "string", "format": "binary"},
        },
        responses={201: serializers.PredictionSerializer, **ERRORS},
        description="One image answers with one prediction; several `image` parts answer with "
        "`{\"results\": [...]}` in the same order. A request with any bad image stores nothing.",
    )
    def post(self, request: Request) -> Response:
        uploads, source = self.read(request)
        predictions = predictions_create(uploads=uploads, source=source)
        results = [serializers.prediction_json(prediction, request) for prediction in predictions]
        return Response(results[0] if len(results) == 1 else {"results": results}, status=201)


class PreviewView(RecognitionView):
    @extend_schema(
        summary="Recognise one image without storing it (live preview while drawing)",
        request={"application/json": serializers.PredictRequestSerializer},
        responses={200: serializers.PreviewSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        uploads, _ = self.read(request)
        if len(uploads) != 1:
            raise BadRequest("A preview takes exactly one image.")
        recognition = recognize(uploads)[0]
        return Response({
            "digit": recognition.digit,
            "confidence": recognition.confidence,
            "probabilities": recognition.probabilities,
            "model_version": recognition.model_version,
            "unsure": recognition.unsure,
            "input": "data:image/png;base64," + base64.b64encode(recognition.input_png).decode(),
        })


class HistoryReadable(BasePermission):
    """Listing predictions follows the history pages' rule: public only with HISTORY_PUBLIC."""

    def has_permission(self, request, view) -> bool:
        return settings.NUMBERFIGURE_HISTORY_PUBLIC or bool(request.user and request.user.is_authenticated)


class PredictionListView(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [HistoryReadable]

    @extend_schema(
        operation_id="predictions_list",
        summary="Stored predictions, newest first",
        parameters=[
            OpenApiParameter("limit", int, description="Page size, 1–200 (default 50)."),
            OpenApiParameter("before", str, description="Cursor: only predictions older than this id."),
            OpenApiParameter("digit", int, description="Only predictions of this digit (0–9)."),
            OpenApiParameter("source", str, enum=list(SOURCES), description="Only predictions from this source."),
        ],
        responses={200: serializers.PredictionListSerializer, 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        try:
            limit = int(params.get("limit", 50))
            before = _uuid(params.get("before"))
            digit = int(params["digit"]) if params.get("digit") else None
        except ValueError:
            return error_response("'limit' and 'digit' must be numbers and 'before' a prediction id.", 400)
        source = params.get("source") or None
        if not 1 <= limit <= 200 or digit not in (None, *range(10)) or source not in (None, *SOURCES):
            return error_response(f"Use 1 ≤ limit ≤ 200, digit 0–9 and source one of {', '.join(SOURCES)}.", 400)
        rows = prediction_list(before=before, limit=limit, filters=Filters(digit=digit, source=source))
        next_url = None
        if len(rows) == limit:
            query = params.copy()
            query["before"] = str(rows[-1].id)
            next_url = request.build_absolute_uri(f"{reverse('api-predictions')}?{query.urlencode()}")
        results = [serializers.prediction_json(row, request) for row in rows]
        return Response({"results": results, "next": next_url})


class StaffCanChange(BasePermission):
    """Anyone may read; changing a prediction needs a staff user (session or token)."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_active and request.user.is_staff)


class PredictionDetailView(APIView):
    authentication_classes = [SessionAuthentication, TokenAuthentication]
    permission_classes = [StaffCanChange]

    @extend_schema(summary="One stored prediction", responses={200: serializers.PredictionSerializer})
    def get(self, request: Request, prediction_id) -> Response:
        prediction = _prediction_or_404(prediction_id)
        return Response(serializers.prediction_json(prediction, request))

    @extend_schema(
        summary="Set or clear the corrected label (staff)",
        request=serializers.CorrectionSerializer,
        responses={200: serializers.PredictionSerializer, 400: ERRORS[400]},
    )
    def patch(self, request: Request, prediction_id) -> Response:
        prediction = _prediction_or_404(prediction_id)
        correction = serializers.CorrectionSerializer(data=request.data)
        correction.is_valid(raise_exception=True)
        prediction_correct(prediction=prediction, label=correction.validated_data["corrected_label"],
                           user=request.user.get_username())
        return Response(serializers.prediction_json(prediction, request))

    @extend_schema(summary="Delete a prediction and its images (staff)", responses={204: None})
    def delete(self, request: Request, prediction_id) -> Response:
        prediction_delete(prediction=_prediction_or_404(prediction_id))
        return Response(status=204)


@extend_schema(exclude=True)
class PredictionImageView(APIView):
    """The original image, byte for byte, with the type its own header declares."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request, prediction_id) -> HttpResponse:
        image = prediction_image_get(prediction_id=prediction_id)
        if image is None:
            raise Http404("No such prediction.")
        return _image_response(image.data, image.content_type)


@extend_schema(exclude=True)
class PredictionInputView(APIView):
    """The 28×28 PNG the model saw."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request, prediction_id) -> HttpResponse:
        return _image_response(_prediction_or_404(prediction_id).input_png, "image/png")


def _image_response(data: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"  # a deleted prediction must not linger in shared caches
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def _prediction_or_404(prediction_id):
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise Http404("No such prediction.")
    return prediction


def _uuid(value: str | None) -> uuid.UUID | None:
    """A prediction id (a TimeUUID) from a query parameter; anything else is a ValueError."""
    if not value:
        return None
    parsed = uuid.UUID(value)
    if parsed.version != 1:
        raise ValueError(value)
    return parsed
