"""The API's per-client rates: DRF asks this before every view (``DEFAULT_THROTTLE_CLASSES``);
``web.throttle`` counts, as for the pages. A view's ``throttle_scope`` names its rate (default ``api``)."""

from rest_framework.throttling import BaseThrottle

from ..web import throttle


class ClientRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        throttle.check(request, getattr(view, "throttle_scope", "api"))  # raises RateLimited (429) when over
        return True
