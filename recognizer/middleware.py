"""Turn an unreachable Cassandra into a clear 503 instead of a 500 with a traceback."""

from cassandra import DriverException, OperationTimedOut, RequestExecutionException
from cassandra.cluster import NoHostAvailable
from cassandra.cqlengine import CQLEngineException
from django.http import JsonResponse
from django.template.response import TemplateResponse

from . import metrics

STORAGE_ERRORS = (NoHostAvailable, OperationTimedOut, RequestExecutionException, DriverException, CQLEngineException)
MESSAGE = "The prediction store (Cassandra) is not reachable right now. Please try again in a moment."


class StorageUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, STORAGE_ERRORS):
            return None
        metrics.cassandra_error(exception)  # operation="request"; a failed write was already counted
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"error": MESSAGE}, status=503)
        return TemplateResponse(request, "503.html", {"message": MESSAGE}, status=503)
