"""Per-client request rates (``RATE_LIMIT_PREDICT``, ``_PREVIEW``, ``_API``) for pages and API alike:
pages call ``check``; DRF asks ``ClientRateThrottle`` before every API view.

Counted by django-ratelimit in Django's ``default`` cache, which every worker shares (``CACHE_URL``:
Redis in the compose file; by default files under ``DJANGO_VAR_DIR``). A client is its address
(``addresses.client_address``, through ``RATELIMIT_IP_META_KEY``), IPv6 clients by their /64.
When that cache cannot be reached, requests are let through (logged): nginx's own per-address
limit still holds, and a rate check is no reason to refuse a recognition.
"""

import logging

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.throttling import BaseThrottle

from ..errors import RateLimited

UNITS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
logger = logging.getLogger(__name__)


def check(request, scope: str) -> None:
    """Count the request against its client's rate for ``scope``; one over the rate is refused (429)."""
    rate = settings.NUMBERFIGURE_RATE_LIMITS.get(scope)
    if not rate:  # an empty rate: not limited
        return
    django_request = getattr(request, "_request", request)  # DRF's request wraps Django's
    try:
        usage = get_usage(django_request, group=f"numberfigure.{scope}", key="ip", rate=rate, increment=True)
    except Exception as error:  # noqa: BLE001 - any cache failure (Redis unreachable, its name not resolving)
        logger.warning("Rate limit %s not checked, the cache is unreachable: %s: %s", scope, type(error).__name__,
                       error)
        return
    if usage is not None and usage["should_limit"]:
        raise RateLimited(f"Too many requests from your address: at most {usage['limit']} per {_window(rate)}. "
                          "Please wait a moment and try again.")


def _window(rate: str) -> str:
    """A rate's window in words: ``60/m`` -> "minute", ``10/5m`` -> "300 seconds" (django-ratelimit's
    rate syntax; it keeps its own parser private, and ``get_usage`` gives the count, not the window)."""
    window = rate.partition("/")[2]
    multiple = window.rstrip("smhdSMHD")
    unit = window[len(multiple):].lower() or "s"
    seconds = int(multiple or 1) * SECONDS[unit]
    return UNITS.get(seconds, f"{seconds} seconds")


class ClientRateThrottle(BaseThrottle):
    """The API's rates (``DEFAULT_THROTTLE_CLASSES``), counted by ``check`` as for the pages. A view's
    ``throttle_scope`` names its rate (default ``api``)."""

    def allow_request(self, request, view) -> bool:
        check(request, getattr(view, "throttle_scope", "api"))  # raises RateLimited (429) when over
        return True
