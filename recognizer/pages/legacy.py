"""The old Flask app's routes, kept for its clients: ``/upload3`` (its draw page's POST) and
``/result?data=N``; its ``/upload2`` draw page is today's draw page."""

from django.http import JsonResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ..errors import BadRequest
from ..segmentation import MAX_DIGITS
from ..services import predictions_create
from ..web import clients, rates
from ..web.problems import REQUEST_ERRORS, problem_for
from ..web.uploads import decode_image_text, json_fields


@csrf_exempt  # the old app's draw page posted here without a CSRF token
@require_POST
def upload3(request):
    """Form or JSON field ``filedata`` holding a data URL -> ``{"status", "data": "<digit>"}``; a drawing of
    several digits answers the whole number in ``data`` (``"2026"``)."""
    try:
        rates.check(request, "predict")
        filedata = _fields(request).get("filedata")
        if filedata is None:
            raise BadRequest("Missing field 'filedata' (a data URL of the drawing).")
        upload = decode_image_text(filedata, field="filedata")
        clients.ensure_waiting(request)
        [digits] = predictions_create(uploads=[upload], source="draw")
    except REQUEST_ERRORS as error:
        problem = problem_for(error)
        return JsonResponse({"status": "error", "error": problem.message}, status=problem.status)
    return JsonResponse({"status": "success", "data": "".join(str(digit.digit) for digit in digits)})


def _fields(request):
    """The form's fields, or a JSON object's. The old draw page's jQuery sent its form body
    (``filedata=<url-encoded data URL>``) labelled ``application/json``: JSON that does not parse is
    read as that form."""
    if request.content_type != "application/json":
        return request.POST
    try:
        return json_fields(request.body)
    except BadRequest:
        form = QueryDict(request.body, encoding=request.encoding)
        if "filedata" not in form:
            raise
        return form


@require_GET
def result(request):
    """``/result?data=N`` shows the digit N, or the number N that ``/upload3`` answered."""
    data = request.GET.get("data", "")
    if not (1 <= len(data) <= MAX_DIGITS and data.isascii() and data.isdigit()):
        return render(request, "recognizer/result.html",
                      {"error": f"'data' must be a digit 0–9 or a number of up to {MAX_DIGITS} digits."}, status=400)
    return render(request, "recognizer/result.html", {"digit": data, "several": len(data) > 1})
