"""Production: secrets and hosts must come from the environment; HTTPS everywhere."""

import os

from .base import *  # noqa: F403
from .base import env, env_bool

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# Probes come over plain HTTP from inside (Docker HEALTHCHECK, Prometheus): answer them, don't redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# Static files: collectstatic writes hashed, compressed copies; WhiteNoise serves them with long cache headers.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
