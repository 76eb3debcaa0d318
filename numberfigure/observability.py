"""Operations: a request id and one JSON log line per request, Prometheus request metrics, and /metrics.

Both middlewares sit at the top of MIDDLEWARE, so they see every answer, including static files, HTTPS
redirects and the 503s of an unreachable Cassandra.
"""

import ipaddress
import json
import logging
import os
import re
import time
import uuid
from functools import cache

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET

from recognizer import metrics
from recognizer.web.addresses import client_address

request_log = logging.getLogger("numberfigure.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept when it is short and plain, so it cannot forge log lines; otherwise we make one.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


# A prediction's id (with or without its dashes): enough to read the prediction and its original.
PREDICTION_ID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


class MaskIdsFilter(logging.Filter):
    """On Django's request loggers, whose 4xx and 5xx lines carry the path: ids become ``<id>``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = PREDICTION_ID.sub("<id>", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def route_of(request) -> str:
    """The URL pattern that answered (bounded), never the raw path (unbounded, may hold ids)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return "/" + match.route  # e.g. "/api/predictions/<uuid:prediction_id>"; the home page is "/"
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unresolved"  # 404s, and answers given before URL resolution (HTTPS redirects)


class RequestLogMiddleware:
    """Takes the request id from X-Request-ID (or makes one), echoes it, and logs one JSON line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = given if CLIENT_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        request_log.info(json.dumps({
            "request_id": request.request_id,
            "method": request.method,
            "route": route_of(request),
            "status": response.status_code,
            "client": client_address(request),  # the address the rate limits and lockouts count
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "worker": os.getpid(),  # which process served it: how the load spreads (bench/api.py)
        }))
        return response


class MetricsMiddleware:
    """Counts requests and times them, by route, method and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.observe_request(
            route=route_of(request), method=request.method, status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response


@cache
def _allowed_networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def client_allowed(remote_addr: str) -> bool:
    """Only the addresses or networks METRICS_ALLOWED_IPS lists; empty: nobody."""
    spec = tuple(settings.NUMBERFIGURE_METRICS_ALLOWED_IPS)
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks(spec))


@require_GET
def metrics_view(request):
    """Prometheus text format. REMOTE_ADDR is the direct peer: behind a proxy, list the scraper's side."""
    if not client_allowed(request.META.get("REMOTE_ADDR", "")):
        return HttpResponseForbidden("Metrics are not served to this address.\n", content_type="text/plain")
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
