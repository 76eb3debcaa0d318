"""Errors that reach no view's own handling (an unreachable Cassandra, a bad query on a page, a
method or address that does not exist) answered through ``problems``: JSON for the API and JSON
clients, a page otherwise; never a 500."""

from django.conf import settings
from django.http import HttpResponseNotAllowed, JsonResponse
from django.template.response import TemplateResponse

from .. import metrics
from ..errors import RateLimited
from .problems import NOT_FOUND, STORAGE_ERRORS, Problem, method_not_allowed, problem_for


def answer(request, problem: Problem):
    """The problem as the client reads it: ``{"error": ...}`` on the API, else a page."""
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": problem.message}, status=problem.status)
    return TemplateResponse(request, "error.html", {"problem": problem}, status=problem.status).render()


def not_found(request, exception=None):
    """``handler404``: also the answer for addresses no URL pattern matches."""
    return answer(request, (exception and problem_for(exception)) or Problem(404, NOT_FOUND))


def bad_request(request, exception=None):
    """``handler400``: what Django refuses outside a view (a form too big for the CSRF check to read)."""
    return answer(request, (exception and problem_for(exception)) or Problem(400, "The request was malformed."))


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer once a login is locked out after too many failures (``AXES_LOCKOUT_CALLABLE``)."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    return answer(request, problem_for(RateLimited(
        f"Too many failed logins: this account is locked for {minutes} minutes from your address.")))


class ProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed):  # a view's require_http_methods
            allowed = response["Allow"]
            response = answer(request, method_not_allowed(request.method, allowed))
            response["Allow"] = allowed
        return response

    def process_exception(self, request, exception):
        problem = problem_for(exception)
        if problem is None:
            return None
        if isinstance(exception, STORAGE_ERRORS):
            metrics.cassandra_error(exception)  # operation="request"; a failed write was already counted
        return answer(request, problem)
