"""Errors that reach no view's own handling (an unreachable Cassandra, a bad query on a page)
answered through ``problems``: JSON for the API and JSON clients, a page otherwise; never a 500."""

from django.http import JsonResponse
from django.template.response import TemplateResponse

from .. import metrics
from .problems import STORAGE_ERRORS, problem_for


class ProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        problem = problem_for(exception)
        if problem is None:
            return None
        if isinstance(exception, STORAGE_ERRORS):
            metrics.cassandra_error(exception)  # operation="request"; a failed write was already counted
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"error": problem.message}, status=problem.status)
        return TemplateResponse(request, "error.html", {"problem": problem}, status=problem.status)
