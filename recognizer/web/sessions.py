"""Logged-in sessions end after ``SESSION_IDLE_MINUTES`` without a request, and ``SESSION_MAX_HOURS`` after
they began, whichever comes first (ASVS 3.3.2); the request that finds its session over either limit goes
on as anonymous (the admin and pages then ask for a login).

Django's own settings give one of the two (``SESSION_COOKIE_AGE``, moved on each request with
``SESSION_SAVE_EVERY_REQUEST``, which writes the session on every request); this writes the last-seen
time at most once a minute (so a session may end up to a minute early).
"""

import time

from django.conf import settings
from django.contrib.auth import logout

STARTED, SEEN = "numberfigure_started", "numberfigure_seen"
SEEN_RESOLUTION = 60  # seconds: how stale the stored last-seen time may be (saves a write per request)


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    @staticmethod
    def _check(request) -> None:
        now, session = time.time(), request.session
        started, seen = session.get(STARTED, now), session.get(SEEN, now)
        if now - seen > settings.NUMBERFIGURE_SESSION_IDLE_SECONDS or \
                now - started > settings.NUMBERFIGURE_SESSION_MAX_SECONDS:
            logout(request)  # the session's data goes, and this request is anonymous
            return
        if STARTED not in session:
            session[STARTED] = now
        if SEEN not in session or now - seen >= min(SEEN_RESOLUTION, settings.NUMBERFIGURE_SESSION_IDLE_SECONDS / 4):
            session[SEEN] = now
