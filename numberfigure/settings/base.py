"""Settings shared by every environment; each value can be set from the environment (django-environ)."""

import ipaddress
from datetime import timedelta
from pathlib import Path

import dj_database_url
import environ
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, ExecutionProfile
from cassandra.policies import (
    ConstantSpeculativeExecutionPolicy,
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    TokenAwarePolicy,
)
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()
BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Local state (SQLite file) lives here, out of version control.
VAR_DIR = Path(env.str("DJANGO_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated variable; spaces around the items are not part of them."""
    return [item for item in env.list(name, cast=str.strip, default=default or []) if item]


def cassandra_replication() -> dict:
    """SimpleStrategy with a factor, or NetworkTopologyStrategy with "dc1:3,dc2:2"."""
    strategy = env.str("CASSANDRA_REPLICATION_STRATEGY", default="SimpleStrategy")
    if strategy == "NetworkTopologyStrategy":
        factors = {}
        for pair in env_list("CASSANDRA_DATACENTERS", ["datacenter1:1"]):
            datacenter, _, factor = pair.partition(":")
            factors[datacenter] = int(factor or 1)
        return {"strategy_class": strategy, **factors}
    return {
        "strategy_class": "SimpleStrategy",
        "replication_factor": env.int("CASSANDRA_REPLICATION_FACTOR", default=1),
    }


CASSANDRA_REPLICATION = cassandra_replication()
# Lightweight transactions (corrections, deletes, Idempotency-Key claims) agree across every
# datacenter when there are several: LOCAL_SERIAL would let two datacenters both win one.
_DATACENTERS = set(CASSANDRA_REPLICATION) - {"strategy_class", "replication_factor"}
CASSANDRA_SERIAL_CONSISTENCY = ConsistencyLevel.SERIAL if len(_DATACENTERS) > 1 else ConsistencyLevel.LOCAL_SERIAL


def cassandra_driver_policies() -> dict:
    """How the driver behaves when nodes fail (docs/reliability.md): requests go to a
    replica of their partition in the local datacenter; an idempotent one still unanswered after
    CASSANDRA_SPECULATIVE_DELAY is sent to a second replica too (so a paused node does not stall
    it); a lost node is retried after 0.5 s, doubling up to 10 s; idle connections are probed
    every 5 s, so a dead node is noticed in seconds, not minutes."""
    local_dc = env.str("CASSANDRA_LOCAL_DC", default="") or None  # None: the first contact point's
    if local_dc is None and CASSANDRA_REPLICATION["strategy_class"] == "NetworkTopologyStrategy":
        raise ImproperlyConfigured("CASSANDRA_LOCAL_DC must name this server's datacenter when "
                                   "CASSANDRA_REPLICATION_STRATEGY is NetworkTopologyStrategy.")
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=local_dc)),
        consistency_level=getattr(ConsistencyLevel, env.str("CASSANDRA_CONSISTENCY", default="LOCAL_QUORUM")),
        serial_consistency_level=CASSANDRA_SERIAL_CONSISTENCY,
        request_timeout=env.float("CASSANDRA_REQUEST_TIMEOUT", default=5.0),
        speculative_execution_policy=ConstantSpeculativeExecutionPolicy(
            delay=env.float("CASSANDRA_SPECULATIVE_DELAY", default=0.25), max_attempts=2),
    )
    return {
        "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
        "reconnection_policy": ExponentialReconnectionPolicy(base_delay=0.5, max_delay=10.0),
        "idle_heartbeat_interval": 5,
        "idle_heartbeat_timeout": 5,
    }


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-local-development-key-do-not-use-in-production")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # First, so that its sync_cassandra (which fixes upstream's) wins.
    "recognizer",
    "django_cassandra_engine",
    "numberfigure.apps.NumberfigureAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "recognizer.tokens",
    "recognizer.audit",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
]

MIDDLEWARE = [
    # Operations: request id + one JSON log line, and Prometheus metrics, around everything.
    "numberfigure.observability.RequestLogMiddleware",
    "numberfigure.observability.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from STATIC_ROOT (collectstatic), served by the app itself.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): logged in with a second factor
    "recognizer.web.sessions.SessionTimeoutMiddleware",
    # Messages, frame options and CSP, for pages; the JSON API gets fixed headers (numberfigure/pages_only.py).
    "numberfigure.pages_only.MessagesOnPages",
    "numberfigure.pages_only.FrameOptionsOnPages",
    "numberfigure.pages_only.ContentSecurityPolicyOnPages",
    "recognizer.web.middleware.ProblemMiddleware",
    # Last, as django-axes asks: counts failed logins and answers a locked-out one.
    "axes.middleware.AxesMiddleware",
]

# Failed logins (the admin's form) are counted per user name and address; too many lock that pair out.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "numberfigure.urls"
WSGI_APPLICATION = "numberfigure.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Django's own data (users, sessions) lives in SQL; predictions live in Cassandra.
DATABASES = {
    "default": dj_database_url.parse(
        env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    ),
    "cassandra": {
        "ENGINE": "django_cassandra_engine",
        "NAME": env.str("CASSANDRA_KEYSPACE", default="numberfigure"),
        "HOST": ",".join(env_list("CASSANDRA_HOSTS", ["127.0.0.1"])),
        "USER": env.str("CASSANDRA_USERNAME", default=""),
        "PASSWORD": env.str("CASSANDRA_PASSWORD", default=""),
        "TEST": {"NAME": env.str("CASSANDRA_TEST_KEYSPACE", default="test_numberfigure"), "DEPENDENCIES": []},
        "OPTIONS": {
            "replication": CASSANDRA_REPLICATION,
            "connection": {
                "port": env.int("CASSANDRA_PORT", default=9042),
                # Connect on first query: start-up and `check` work without a server, and
                # pre-forking servers (gunicorn) connect in each worker, after the fork.
                "lazy_connect": True,
                "retry_connect": True,
                "connect_timeout": env.float("CASSANDRA_CONNECT_TIMEOUT", default=5.0),
                # LZ4 on every frame gains nothing on the payload that matters (PNGs, already
                # compressed) and costs both the app and the node CPU (docs/performance.md).
                "compression": env.bool("CASSANDRA_COMPRESSION", default=False),
                **cassandra_driver_policies(),
            },
        },
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# A login lasts SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS at most (recognizer/web/sessions.py).
NUMBERFIGURE_SESSION_IDLE_SECONDS = int(env.float("SESSION_IDLE_MINUTES", default=30) * 60)
NUMBERFIGURE_SESSION_MAX_SECONDS = int(env.float("SESSION_MAX_HOURS", default=12) * 3600)
SESSION_COOKIE_AGE = NUMBERFIGURE_SESSION_MAX_SECONDS  # the cookie does not outlive the session

OTP_TOTP_ISSUER = "Numberfigure"  # the name authenticator apps show

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "filters": {"mask_ids": {"()": "numberfigure.observability.MaskIdsFilter"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # The driver logs every failed connection attempt; the health check reports those.
        "cassandra": {"level": "ERROR"},
        # "Not Found: /api/predictions/<id>": a path with an id is all it takes to read a prediction.
        "django.request": {"filters": ["mask_ids"]},
        "django.server": {"filters": ["mask_ids"]},
    },
}

# The product's own knobs.
NUMBERFIGURE_MODEL_DIR = Path(env.str("MODEL_DIR", default=str(BASE_DIR / "mlmodel")))
MNIST_DIR = env.str("MNIST_DIR", default="")
NUMBERFIGURE_MAX_UPLOAD_BYTES = int(env.float("MAX_UPLOAD_MB", default=5) * 1024 * 1024)
NUMBERFIGURE_MAX_PIXELS = int(env.float("MAX_IMAGE_MEGAPIXELS", default=40) * 1_000_000)
NUMBERFIGURE_MAX_FILES = env.int("MAX_FILES_PER_REQUEST", default=20)
# Pixels one request may decode in all (its images' headers are read first): bounds a request's time.
NUMBERFIGURE_MAX_REQUEST_PIXELS = int(env.float("MAX_REQUEST_MEGAPIXELS", default=100) * 1_000_000)
# Predictions kept locally while Cassandra cannot take them (docs/reliability.md).
NUMBERFIGURE_OUTBOX_DIR = Path(env.str("OUTBOX_DIR", default=str(VAR_DIR / "outbox")))
NUMBERFIGURE_OUTBOX_MAX_ITEMS = env.int("OUTBOX_MAX_ITEMS", default=10_000)
NUMBERFIGURE_OUTBOX_MAX_BYTES = int(env.float("OUTBOX_MAX_MB", default=256) * 1024 * 1024)
# Partitions per 10-minute bucket that new predictions are spread over (1-256; docs/data-layout.md).
NUMBERFIGURE_SHARDS = env.int("CASSANDRA_SHARDS", default=16)
# /healthz says "degraded" when this server's clock and Cassandra's differ by more (docs/reliability.md).
NUMBERFIGURE_MAX_CLOCK_SKEW_SECONDS = env.float("MAX_CLOCK_SKEW_SECONDS", default=1.0)
NUMBERFIGURE_UNSURE_BELOW = env.float("UNSURE_BELOW", default=0.7)
# Drift watch (docs/drift.md): what a day is compared with ("card": the model's held-out validation
# figures; "days": its first DRIFT_REFERENCE_DAYS days in service), and the fewest predictions a day
# needs before its figures may alarm.
NUMBERFIGURE_DRIFT_REFERENCE = env.str("DRIFT_REFERENCE", default="card")
NUMBERFIGURE_DRIFT_REFERENCE_DAYS = env.int("DRIFT_REFERENCE_DAYS", default=7)
NUMBERFIGURE_DRIFT_MIN_SAMPLE = env.int("DRIFT_MIN_SAMPLE", default=200)
# The review page: how long the predictions handed to a reviewer are kept from the others, and how
# long a skipped one stays out of the queue (README "Review and retrain").
NUMBERFIGURE_REVIEW_LEASE_SECONDS = env.int("REVIEW_LEASE_SECONDS", default=30)
NUMBERFIGURE_REVIEW_SKIP_SECONDS = env.int("REVIEW_SKIP_SECONDS", default=600)
# Whether anyone may browse the history and stats (correcting and deleting always need staff).
NUMBERFIGURE_HISTORY_PUBLIC = env.bool("HISTORY_PUBLIC", default=False)
# Operations: who may read /metrics, comma-separated addresses or networks; empty = nobody.
NUMBERFIGURE_METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")

# Uploaded files stay in memory, within MAX_UPLOAD_MB each and MAX_FILES_PER_REQUEST of them; the
# handler refuses a request (413) the moment it passes a limit, so nothing is spooled to disk.
FILE_UPLOAD_HANDLERS = ["recognizer.web.uploads.LimitedUploadHandler"]
# Other bodies (JSON, forms): a base64 image is a third larger than the image.
DATA_UPLOAD_MAX_MEMORY_SIZE = NUMBERFIGURE_MAX_UPLOAD_BYTES * 4 // 3 + 64 * 1024

# The shared cache every worker counts request rates in. Redis (CACHE_URL=redis://host:6379/0) counts
# atomically and across hosts. The default is diskcache's Django cache: SQLite files in DJANGO_VAR_DIR,
# shared by the workers of one host, with atomic increments, kept open between requests
# (numberfigure/cache.py): a rate check costs ~0.2 ms in a worker, against ~0.7 ms with Django's file
# cache, which also lists its whole folder on every write (bench/breakdown.py, docs/performance.md).
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
else:
    CACHES = {"default": {"BACKEND": "numberfigure.cache.DiskCache", "LOCATION": str(VAR_DIR / "cache"),
                          "OPTIONS": {"size_limit": 2**28}}}  # 256 MiB, then least recently stored out
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]  # "not officially supported": these two count atomically
# Requests per client (address) and window, e.g. 60/m or 1000/h; empty: no limit.
NUMBERFIGURE_RATE_LIMITS = {
    "predict": env.str("RATE_LIMIT_PREDICT", default="60/m"),  # POST /api/predict, /upload, /upload3
    "preview": env.str("RATE_LIMIT_PREVIEW", default="300/m"),  # the draw page previews after each stroke
    "api": env.str("RATE_LIMIT_API", default="600/m"),  # the rest of /api/
}
# A client's address (recognizer/web/addresses.py, for the rate limits, login lockouts and logs): behind a
# proxy that sets it, CLIENT_IP_HEADER (e.g. X-Real-IP) names it, believed only from the peers TRUSTED_PROXIES
# lists (addresses or networks; by default loopback and the private networks, where a compose network's
# nginx is); from anyone else the peer's own address counts.
_client_ip_header = env.str("CLIENT_IP_HEADER", default="")
NUMBERFIGURE_CLIENT_IP_META_KEY = ("HTTP_" + _client_ip_header.upper().replace("-", "_")) if _client_ip_header else ""
NUMBERFIGURE_TRUSTED_PROXIES = [  # parsed here: a typo stops the start, naming the value, not each request
    str(ipaddress.ip_network(network, strict=False)) for network in env_list(
        "TRUSTED_PROXIES", ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"])]
RATELIMIT_IP_META_KEY = "recognizer.web.addresses.client_address"
AXES_CLIENT_IP_CALLABLE = "recognizer.web.addresses.client_address"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "recognizer.web.middleware.locked_out"
AXES_VERBOSE = False  # no banner at each start; lockouts are still logged

# Pages run no inline script (templates load static/…/*.js); the result widget and charts set sizes
# in style attributes. The API's image answers set their own, stricter policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "recognizer.web.problems.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["recognizer.web.uploads.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    # No BasicAuthentication: it would let anyone try passwords at the cost of a full hash per try.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication",
                                       "recognizer.tokens.authentication.ApiTokenAuthentication"],
    "DEFAULT_THROTTLE_CLASSES": ["recognizer.web.rates.ClientRateThrottle"],
}
# API tokens (django-rest-knox): only a SHA-512 digest is stored; each has a name and expires.
NUMBERFIGURE_API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=90)
KNOX_TOKEN_MODEL = "tokens.ApiToken"
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=NUMBERFIGURE_API_TOKEN_DAYS),
    "TOKEN_PREFIX": "nf_",  # a leaked key is recognisable (secret scanners, logs)
    "AUTH_HEADER_PREFIX": "Token",  # as DRF's tokens: clients send the same header
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Numberfigure API",
    "DESCRIPTION": "Recognise hand-written digits and read the stored predictions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Each caller gets the operations its permissions allow: correcting and deleting are listed to staff only.
    "SERVE_PUBLIC": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
