"""Every error a request can meet, turned into what the client is told: one table for all routes.

Pages show ``message`` on the page, the API answers ``{"error": message}``, the old app's routes
``{"status": "error", "error": message}`` (``api_exception_handler`` for the API, the middleware for
the rest); all with ``status``. An error not listed here is a bug
and stays a 500.
"""

from dataclasses import dataclass

from cassandra import DriverException, OperationTimedOut, RequestExecutionException
from cassandra.cluster import NoHostAvailable
from cassandra.cqlengine import CQLEngineException
from django.core.exceptions import DisallowedHost, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import RecognizerError

STORAGE_ERRORS = (NoHostAvailable, OperationTimedOut, RequestExecutionException, DriverException, CQLEngineException)
STORAGE_MESSAGE = "The prediction store (Cassandra) is not reachable right now. Please try again in a moment."
NOT_FOUND = "There is nothing at this address."
# What a view may catch to show the problem in its own page or JSON shape; storage errors are
# left to the middleware, which also counts them.
REQUEST_ERRORS = (RecognizerError, SuspiciousOperation)


@dataclass(frozen=True)
class Problem:
    status: int
    message: str


def method_not_allowed(method: str, allowed: str) -> Problem:
    return Problem(405, f"This address does not accept {method} requests; it accepts {allowed}.")


def problem_for(error: BaseException) -> Problem | None:
    """What to answer for ``error``, or None when it is not a refusal the client caused."""
    if isinstance(error, RecognizerError):
        return Problem(error.status, error.message)
    if isinstance(error, RequestDataTooBig):  # Django refused a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        return Problem(413, "The request body is larger than the upload limit.")
    if isinstance(error, DisallowedHost):  # Django's message names the header and ALLOWED_HOSTS: for the log only
        return Problem(400, "This site is not served at the host name the request asked for.")
    if isinstance(error, SuspiciousOperation):
        return Problem(400, str(error) or "The request was malformed.")
    if isinstance(error, Http404):  # our own say what is missing; the URL resolver's hold its internals
        message = error.args[0] if error.args and isinstance(error.args[0], str) else NOT_FOUND
        return Problem(404, message)
    if isinstance(error, STORAGE_ERRORS):
        return Problem(503, STORAGE_MESSAGE)
    return None


def api_exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every API error is JSON ``{"error": "..."}``; the product's and the
    request's errors get the status ``problem_for`` gives them, DRF's own (auth, parsing, validation)
    are flattened to one sentence."""
    if isinstance(exc, REQUEST_ERRORS):
        problem = problem_for(exc)
        return Response({"error": problem.message}, status=problem.status)
    response = drf_exception_handler(exc, context)  # None for the rest: the middleware's, or a 500
    if response is not None:
        response.data = {"error": _drf_message(response.data)}
    return response


def _drf_message(data) -> str:
    """Flatten DRF's error payloads ({"detail": ...} or {"field": [...]}) into one sentence."""
    if isinstance(data, dict):
        if "detail" in data:
            return str(data["detail"])
        return " ".join(f"{field}: {_drf_message(value)}" for field, value in data.items())
    if isinstance(data, list):
        return " ".join(_drf_message(item) for item in data)
    return str(data)
