# syntax=docker/dockerfile:1
# The Numberfigure web image: Django, the LiteRT model and gunicorn; no TensorFlow, no build tools.
#   docker build -t numberfigure .      (or: docker compose up --build)

# Builder: a venv with the web requirements only (every one has a binary wheel for CPython 3.11).
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# Runtime: the venv, the code and the shipped model; the code is root's and read-only for the server.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=numberfigure.settings.production \
    GUNICORN_BIND=0.0.0.0:8000 \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_VAR_DIR=/app/var \
    MODEL_DIR=/app/mlmodel \
    PROMETHEUS_MULTIPROC_DIR=/tmp/numberfigure-metrics
RUN groupadd --system --gid 10001 numberfigure \
    && useradd --system --uid 10001 --gid numberfigure --home-dir /app --shell /usr/sbin/nologin numberfigure
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY . .
# The server reads only model.tflite and card.json; collectstatic needs a secret key, not the real one, and
# no metrics folder (its files, made by root here, would be refused to the server's user).
RUN test -f mlmodel/model.tflite && test -f mlmodel/card.json \
    && DJANGO_SECRET_KEY=collectstatic-only PROMETHEUS_MULTIPROC_DIR='' python manage.py collectstatic --noinput \
    && python -m compileall -q numberfigure recognizer \
    && mkdir -p /app/var \
    && chown -R numberfigure:numberfigure /app/var

USER 10001:10001
EXPOSE 8000
# /healthz answers 200 when the app runs and Cassandra answers; Host is the first allowed host name.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('DJANGO_ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.*') or 'localhost'; p = os.environ.get('GUNICORN_BIND', ':8000').rpartition(':')[2]; u.urlopen(u.Request(f'http://127.0.0.1:{p}/healthz', headers={'Host': h}), timeout=4)"]
ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "numberfigure.wsgi"]
