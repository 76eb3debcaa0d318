"""Pages: home, health, draw, upload, and a stored prediction."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from ..errors import BadRequest
from ..health import service_status
from ..selectors import picture_digits_get, prediction_get
from ..services import predictions_create
from ..web import clients, rates
from ..web.access import can_change
from ..web.display import WIDGET_TEMPLATE, page_result, picture_json
from ..web.problems import REQUEST_ERRORS, problem_for
from ..web.uploads import uploads_from_files


@require_GET
def home(request):
    return render(request, "recognizer/home.html")


@require_GET
def healthz(request):
    """Public: the status and the outbox depth; staff also see Cassandra's details (README, "Operations")."""
    health = service_status()
    answer = {"status": health["status"], "outbox": health["outbox"]}
    if can_change(request.user):
        answer["cassandra"] = health["cassandra"]
    return JsonResponse(answer, status=503 if health["status"] == "unavailable" else 200)


@require_GET
def draw(request):
    return render(request, "recognizer/draw.html", {
        "preview_url": reverse("api-preview"),
        "predict_url": reverse("api-predict"),
        "widget": WIDGET_TEMPLATE,
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
            rates.check(request, "predict")
            files = request.FILES.getlist("images") + request.FILES.getlist("file")
            if not files:
                raise BadRequest("Choose one or more image files to recognise.")
            uploads = uploads_from_files(files)
            clients.ensure_waiting(request)
            pictures = predictions_create(uploads=uploads, source="upload")
            context["results"] = [page_result(digits, request) for digits in pictures]
        except REQUEST_ERRORS as error:
            problem = problem_for(error)
            context["error"], status = problem.message, problem.status
    return render(request, "recognizer/upload.html", context, status=status)


@require_GET
def prediction_detail(request, prediction_id):
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise Http404("No such prediction.")
    return render(request, "recognizer/prediction.html", {
        "prediction": prediction,
        # the whole number of its picture; no link to the page itself
        "result": {**picture_json(picture_digits_get(prediction=prediction), request, top=prediction), "url": None},
    })
