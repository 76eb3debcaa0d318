"""The JSON API: recognise images, read stored predictions and their images."""

from django import forms
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..audit.services import audit_record
from ..errors import BadRequest
from ..models import SOURCES
from ..recognition import ImageUpload, recognize
from ..selectors import picture_digits_get, prediction_get, prediction_image_get
from ..services import prediction_correct, prediction_delete, predictions_create
from ..tokens.authentication import ApiTokenAuthentication
from ..web import access, clients
from ..web.display import picture_json, prediction_json, preview_json
from ..web.queries import PredictionQuery, cursor_query, prediction_page, read_query
from ..web.uploads import JSONParser, RawImageParser, decode_image_text, uploads_from_files
from . import idempotency, serializers

ERRORS = {code: OpenApiResponse(description=text) for code, text in {
    400: "Malformed request: bad JSON or base64, missing field.",
    413: "Too large: bytes, pixels, or number of files.",
    429: "Too many requests from this client; try again in a moment.",
    415: "Not an image format we read (PNG, JPEG, GIF, BMP, WebP, TIFF).",
    422: "An image, but corrupt, or with no digit in it, or not one digit with `expect=digit`; or an "
         "Idempotency-Key reused for another request.",
}.items()}


EXPECT = OpenApiParameter(
    "expect", OpenApiTypes.STR, enum=["digit", "number"],
    description="`digit`: the picture must hold exactly one digit, else a 422 says how many it holds. "
    "`number` (the default): any count of digits.")


def expects_one_digit(request: Request) -> bool:
    """The ``expect`` query parameter: ``digit`` asks for exactly one digit a picture."""
    expect = request.query_params.get("expect", "number")
    if expect not in ("digit", "number"):
        raise BadRequest("Query parameter 'expect' must be 'digit' or 'number'.")
    return expect == "digit"


class RecognitionView(APIView):
    """Shared request reading for the endpoints that take images."""

    parser_classes = [JSONParser, parsers.MultiPartParser, RawImageParser]
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def read(self, request: Request) -> tuple[list[ImageUpload], str]:
        """The uploads and the declared source, or a 4xx error (499 when the client has left meanwhile)."""
        uploads, source = self._uploads(request)
        clients.ensure_waiting(request)
        return uploads, source

    def _uploads(self, request: Request) -> tuple[list[ImageUpload], str]:
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


class PredictView(RecognitionView):
    throttle_scope = "predict"

    @extend_schema(
        summary="Recognise and store one or more images",
        request={
            "application/json": serializers.PredictRequestSerializer,
            "multipart/form-data": {"type": "object", "properties": {
                "image": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "source": {"type": "string", "enum": list(SOURCES)}}},
            "image/*": {"type": "string", "format": "binary"},
        },
        parameters=[EXPECT, OpenApiParameter(
            idempotency.HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
            description="Optional, e.g. a UUID. A retry with the same key within 24 h gets the first "
            "answer again (header `Idempotent-Replayed: true`) and stores nothing new; the same key "
            "with another request is a 422, and while the first request runs a retry gets 409."),
        ],
        responses={201: serializers.PictureSerializer, **ERRORS,
                   202: OpenApiResponse(serializers.PictureSerializer,
                                        description="Recognised; kept in the outbox until Cassandra answers."),
                   409: OpenApiResponse(description="A request with this Idempotency-Key is still running.")},
        description="One image answers with one prediction; several `image` parts answer with "
        "`{\"results\": [...]}` in the same order. A request with any bad image stores nothing. "
        "A picture of several digits is stored a prediction per digit: its answer's `number` holds them "
        "all left to right, `digits` one entry each; its single-digit fields are the first digit's.",
    )
    def post(self, request: Request) -> Response:
        uploads, source = self.read(request)
        expect_digit = expects_one_digit(request)

        def create(prediction_ids) -> Response:
            pictures = predictions_create(uploads=uploads, source=source, prediction_ids=prediction_ids,
                                          expect_digit=expect_digit)
            results = [picture_json(digits, request) for digits in pictures]
            status = 202 if any(digit.pending for digits in pictures for digit in digits) else 201
            return Response(results[0] if len(results) == 1 else {"results": results}, status=status)

        return idempotency.respond_once(request, uploads, source, create)


class PreviewView(RecognitionView):
    throttle_scope = "preview"

    @extend_schema(
        summary="Recognise one image without storing it (live preview while drawing)",
        request={"application/json": serializers.PredictRequestSerializer},
        parameters=[EXPECT],
        responses={200: serializers.PreviewSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        uploads, _ = self.read(request)
        if len(uploads) != 1:
            raise BadRequest("A preview takes exactly one image.")
        return Response(preview_json(recognize(uploads, expect_digit=expects_one_digit(request))[0]))


class HistoryReadable(BasePermission):
    """Listing predictions follows the history pages' rule."""

    def has_permission(self, request, view) -> bool:
        return access.can_read_history(request.user)


def query_parameters(form: type[forms.Form]) -> list[OpenApiParameter]:
    """The OpenAPI parameters of a query form: its fields, types, choices and help texts."""
    types = {forms.IntegerField: OpenApiTypes.INT, forms.DateField: OpenApiTypes.DATE,
             forms.UUIDField: OpenApiTypes.UUID}
    parameters = []
    for name, field in form.base_fields.items():
        kind = next((kind for base, kind in types.items() if isinstance(field, base)), OpenApiTypes.STR)
        choices = [value for value, _ in getattr(field, "choices", []) if value != ""]
        if choices and getattr(field, "coerce", None) is int:
            kind, choices = OpenApiTypes.INT, [int(value) for value in choices]
        parameters.append(OpenApiParameter(name, kind, enum=choices or None, description=field.help_text))
    return parameters


class PredictionListView(APIView):
    authentication_classes = [SessionAuthentication, ApiTokenAuthentication]
    permission_classes = [HistoryReadable]

    @extend_schema(
        operation_id="predictions_list",
        summary="Stored predictions, newest first",
        parameters=query_parameters(PredictionQuery),
        responses={200: serializers.PredictionListSerializer, 400: ERRORS[400]},
    )
    def get(self, request: Request) -> Response:
        page = prediction_page(read_query(request.query_params))

        def link(**cursor) -> str:
            query = cursor_query(request.query_params, **cursor)
            return request.build_absolute_uri(f"{reverse('api-predictions')}?{query}")

        return Response({
            "results": [prediction_json(row, request) for row in page.rows],
            "next": link(before=page.older) if page.older else None,
            "previous": link(after=page.newer) if page.newer else None,
        })


class StaffCanChange(BasePermission):
    """Anyone may read; changing a prediction needs a staff user (session or token)."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or access.can_change(request.user)


class PredictionDetailView(APIView):
    authentication_classes = [SessionAuthentication, ApiTokenAuthentication]
    permission_classes = [StaffCanChange]

    @extend_schema(summary="One stored prediction", responses={200: serializers.PictureSerializer})
    def get(self, request: Request, prediction_id) -> Response:
        return Response(_stored_json(_prediction_or_404(prediction_id), request))

    @extend_schema(
        summary="Set or clear the corrected label (staff)",
        request=serializers.CorrectionSerializer,
        responses={200: serializers.PictureSerializer, 400: ERRORS[400]},
    )
    def patch(self, request: Request, prediction_id) -> Response:
        prediction = _prediction_or_404(prediction_id)
        correction = serializers.CorrectionSerializer(data=request.data)
        correction.is_valid(raise_exception=True)
        label, before = correction.validated_data["corrected_label"], prediction.corrected_label
        prediction_correct(prediction=prediction, label=label, user=request.user.get_username())
        audit_record(request=request, action="prediction.correct", target=str(prediction.id),
                     change={"corrected_label": [before, label]})
        return Response(_stored_json(prediction, request))

    @extend_schema(summary="Delete a prediction and its images (staff)", responses={204: None})
    def delete(self, request: Request, prediction_id) -> Response:
        prediction_delete(prediction=_prediction_or_404(prediction_id))
        audit_record(request=request, action="prediction.delete", target=str(prediction_id))
        return Response(status=204)


@extend_schema(exclude=True)
class PredictionImageView(APIView):
    """The stored original (without its metadata), with the type its own header declares."""

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


def _stored_json(prediction, request) -> dict:
    """One stored digit, with its picture's whole number read back."""
    return picture_json(picture_digits_get(prediction=prediction), request, top=prediction)


def _prediction_or_404(prediction_id):
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise Http404("No such prediction.")
    return prediction
