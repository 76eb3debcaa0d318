"""Pages: draw, upload, a stored prediction, and the old app's routes."""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .api.errors import status_for
from .health import cassandra_status
from .models import Prediction
from .preprocessing import InvalidImage
from .selectors import prediction_get
from .services import predictions_create
from .uploads import BadRequest, decode_image_text, uploads_from_files


@require_GET
def home(request):
    return render(request, "recognizer/home.html")


@require_GET
def healthz(request):
    cassandra = cassandra_status()
    if cassandra["reachable"]:
        return JsonResponse({"status": "ok", "cassandra": cassandra})
    return JsonResponse({"status": "unavailable", "cassandra": cassandra}, status=503)


@require_GET
def draw(request):
    return render(request, "recognizer/draw.html", {
        "preview_url": reverse("api-preview"),
        "predict_url": reverse("api-predict"),
        "unsure_below": settings.NUMBERFIGURE_UNSURE_BELOW,
    })


@csrf_exempt  # the old app's clients post here without a token; nothing here acts for a logged-in user
@require_http_methods(["GET", "POST"])
def upload(request):
    """The upload page; its POST (``images``, or the old app's ``file``) shows the results."""
    context = {
        "results": [],
        "error": None,
        "max_files": settings.NUMBERFIGURE_MAX_FILES,
        "max_mb": settings.NUMBERFIGURE_MAX_UPLOAD_BYTES / 2**20,
    }
    status = 200
    if request.method == "POST":
        try:
            files = request.FILES.getlist("images") + request.FILES.getlist("file")
            if not files:
                raise BadRequest("Choose one or more image files to recognise.")
            predictions = predictions_create(uploads=uploads_from_files(files), source="upload")
            context["results"] = [result_context(p) for p in predictions]
        except (BadRequest, SuspiciousOperation) as error:
            context["error"], status = getattr(error, "message", str(error)), 400
        except InvalidImage as error:
            context["error"], status = error.message, status_for(error)
    return render(request, "recognizer/upload.html", context, status=status)


@require_GET
def prediction_detail(request, prediction_id):
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise Http404("No such prediction.")
    return render(request, "recognizer/prediction.html", {
        "prediction": prediction,
        "result": {**result_context(prediction), "url": None},  # no link to the page itself
        "image_url": reverse("api-prediction-image", args=[prediction.id]),
    })


def result_context(prediction: Prediction) -> dict:
    """What the shared result widget shows for a stored prediction."""
    return {
        "digit": prediction.digit,
        "confidence": prediction.confidence,
        "probabilities": prediction.probabilities,
        "input_src": reverse("api-prediction-input", args=[prediction.id]),
        "url": reverse("prediction_detail", args=[prediction.id]),
        "filename": prediction.filename,
        "unsure": prediction.unsure,
    }


@csrf_exempt  # the old app's draw page posted here without a CSRF token
@require_POST
def legacy_upload3(request):
    """Old app: form or JSON field ``filedata`` holding a data URL -> ``{"status", "data": "<digit>"}``."""
    try:
        if request.content_type == "application/json":
            body = json.loads(request.body or b"null")
            filedata = body.get("filedata") if isinstance(body, dict) else None
        else:
            filedata = request.POST.get("filedata")
        if filedata is None:
            raise BadRequest("Missing field 'filedata' (a data URL of the drawing).")
        [prediction] = predictions_create(uploads=[decode_image_text(filedata, field="filedata")], source="draw")
    except RequestDataTooBig:
        return JsonResponse({"status": "error", "error": "The drawing is larger than the upload limit."}, status=413)
    except (ValueError, SuspiciousOperation) as error:  # BadRequest, InvalidImage and bad JSON
        status = status_for(error) if isinstance(error, InvalidImage) else 400
        return JsonResponse({"status": "error", "error": getattr(error, "message", str(error))}, status=status)
    return JsonResponse({"status": "success", "data": str(prediction.digit)})


@require_GET
def legacy_result(request):
    """Old app: ``/result?data=N`` shows the digit N."""
    data = request.GET.get("data", "")
    if not (len(data) == 1 and data in "0123456789"):
        return render(request, "recognizer/result.html", {"error": "'data' must be a single digit 0–9."},
                      status=400)
    return render(request, "recognizer/result.html", {"digit": int(data)})
