"""Settings shared by every environment; each value can be set from the environment."""

import os
from pathlib import Path

import dj_database_url
from cassandra import ConsistencyLevel

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Local state (SQLite file) lives here, out of version control.
VAR_DIR = Path(os.environ.get("DJANGO_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def cassandra_replication() -> dict:
    """SimpleStrategy with a factor, or NetworkTopologyStrategy with "dc1:3,dc2:2"."""
    strategy = env("CASSANDRA_REPLICATION_STRATEGY", "SimpleStrategy")
    if strategy == "NetworkTopologyStrategy":
        factors = {}
        for pair in env_list("CASSANDRA_DATACENTERS", "datacenter1:1"):
            datacenter, _, factor = pair.partition(":")
            factors[datacenter] = int(factor or 1)
        return {"strategy_class": strategy, **factors}
    return {
        "strategy_class": "SimpleStrategy",
        "replication_factor": int(env("CASSANDRA_REPLICATION_FACTOR", "1")),
    }


SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-local-development-key-do-not-use-in-production")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
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
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    # Operations (issue 7): request id + one JSON log line, and Prometheus metrics, around everything.
    "numberfigure.observability.RequestLogMiddleware",
    "numberfigure.observability.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from STATIC_ROOT (collectstatic), served by the app itself (issue 7).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "recognizer.web.middleware.ProblemMiddleware",
]

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
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    ),
    "cassandra": {
        "ENGINE": "django_cassandra_engine",
        "NAME": env("CASSANDRA_KEYSPACE", "numberfigure"),
        "HOST": ",".join(env_list("CASSANDRA_HOSTS", "127.0.0.1")),
        "USER": env("CASSANDRA_USERNAME"),
        "PASSWORD": env("CASSANDRA_PASSWORD"),
        "TEST": {"NAME": env("CASSANDRA_TEST_KEYSPACE", "test_numberfigure"), "DEPENDENCIES": []},
        "OPTIONS": {
            "replication": cassandra_replication(),
            "connection": {
                "port": int(env("CASSANDRA_PORT", "9042")),
                # Connect on first query: start-up and `check` work without a server, and
                # pre-forking servers (gunicorn) connect in each worker, after the fork.
                "lazy_connect": True,
                "retry_connect": True,
                "consistency": getattr(ConsistencyLevel, env("CASSANDRA_CONSISTENCY", "LOCAL_QUORUM")),
                "connect_timeout": float(env("CASSANDRA_CONNECT_TIMEOUT", "5")),
            },
            "session": {"default_timeout": float(env("CASSANDRA_REQUEST_TIMEOUT", "10"))},
        },
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    # The driver logs every failed connection attempt; the health check reports those.
    "loggers": {"cassandra": {"level": "ERROR"}},
}

# The product's own knobs.
NUMBERFIGURE_MODEL_DIR = Path(env("MODEL_DIR", str(BASE_DIR / "mlmodel")))
MNIST_DIR = env("MNIST_DIR")
NUMBERFIGURE_MAX_UPLOAD_BYTES = int(float(env("MAX_UPLOAD_MB", "5")) * 1024 * 1024)
NUMBERFIGURE_MAX_PIXELS = int(float(env("MAX_IMAGE_MEGAPIXELS", "40")) * 1_000_000)
NUMBERFIGURE_MAX_FILES = int(env("MAX_FILES_PER_REQUEST", "20"))
NUMBERFIGURE_UNSURE_BELOW = float(env("UNSURE_BELOW", "0.7"))
# Whether anyone may browse the history and stats (correcting and deleting always need staff).
NUMBERFIGURE_HISTORY_PUBLIC = env_bool("HISTORY_PUBLIC", False)
# Operations (issue 7): who may read /metrics, comma-separated addresses or networks; empty = everyone.
NUMBERFIGURE_METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")

# Uploads stay in memory up to the limit; a base64 JSON body is a third larger than its image.
FILE_UPLOAD_MAX_MEMORY_SIZE = NUMBERFIGURE_MAX_UPLOAD_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = NUMBERFIGURE_MAX_UPLOAD_BYTES * 4 // 3 + 64 * 1024

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "recognizer.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Numberfigure API",
    "DESCRIPTION": "Recognise hand-written digits and read the stored predictions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
