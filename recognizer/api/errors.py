"""Every API error is JSON ``{"error": "..."}``: the product's and the request's errors with the
status ``web.problems`` gives them, DRF's own (auth, parsing, validation) flattened to one sentence."""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..web.problems import REQUEST_ERRORS, problem_for


def exception_handler(exc, context):
    if isinstance(exc, REQUEST_ERRORS):
        problem = problem_for(exc)
        return Response({"error": problem.message}, status=problem.status)
    response = drf_exception_handler(exc, context)  # None for the rest: the middleware's, or a 500
    if response is not None:
        response.data = {"error": _message(response.data)}
    return response


def _message(data) -> str:
    """Flatten DRF's error payloads ({"detail": ...} or {"field": [...]}) into one sentence."""
    if isinstance(data, dict):
        if "detail" in data:
            return str(data["detail"])
        return " ".join(f"{field}: {_message(value)}" for field, value in data.items())
    if isinstance(data, list):
        return " ".join(_message(item) for item in data)
    return str(data)
