"""What the image does, without Docker: a fresh venv from requirements.txt only (``web_venv``, in this
folder's conftest.py), collectstatic with the production settings, then the Dockerfile's exact ENTRYPOINT
+ CMD (sync_cassandra, migrate, gunicorn with gunicorn.conf.py) against the local Cassandra in its own
keyspace, driven over HTTP.

Prints the web venv's size and the workers' memory after the first prediction (`pytest -s` shows them).
"""

import base64
import json
import os
import secrets
import subprocess
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from harness.server import Server, free_port, start

REPO = Path(__file__).resolve().parents[2]
KEYSPACE = "test_numberfigure_deploy"
PASSED_ON = ("HOME", "LANG", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

pytestmark = pytest.mark.deploy


def dockerfile_exec_forms() -> dict[str, list[str]]:
    """The final stage's ENTRYPOINT, CMD and HEALTHCHECK commands (exec form, one line each)."""
    forms = {}
    for line in (REPO / "Dockerfile").read_text().replace("\\\n", " ").splitlines():
        name, _, args = line.strip().partition(" ")
        if name in ("ENTRYPOINT", "CMD"):
            forms[name] = json.loads(args)
        elif name == "HEALTHCHECK":
            forms[name] = json.loads(args.split(" CMD ", 1)[1])
    return forms


def dockerfile_command() -> list[str]:
    """ENTRYPOINT + CMD, the entry point's /app path mapped onto this checkout."""
    forms = dockerfile_exec_forms()
    entrypoint = [str(REPO / forms["ENTRYPOINT"][0].removeprefix("/app/")), *forms["ENTRYPOINT"][1:]]
    return entrypoint + forms["CMD"]


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def drop_keyspace() -> None:
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    config = settings.DATABASES["cassandra"]
    auth = PlainTextAuthProvider(config["USER"], config["PASSWORD"]) if config["USER"] else None
    cluster = Cluster(config["HOST"].split(","), port=config["OPTIONS"]["connection"]["port"], auth_provider=auth)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}", timeout=60)
    finally:
        cluster.shutdown()


def request(base: str, path: str, *, data: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(base + path, data=data, headers=headers or {}), timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def workers_rss(app: Server) -> dict[int, int]:
    """VmRSS (KiB) of each of gunicorn's workers."""
    rss = {}
    for pid in app.workers():
        with suppress(OSError):  # a worker that ended meanwhile
            rss[pid] = int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])
    return rss


@pytest.fixture(scope="module")
def model_dir():
    model_dir = Path(os.environ.get("MODEL_DIR") or REPO / "mlmodel")
    if not (model_dir / "model.tflite").is_file() or not (model_dir / "card.json").is_file():
        pytest.fail(f"no model in {model_dir}: the image bakes in mlmodel/model.tflite and card.json")
    return model_dir


@pytest.fixture(scope="module")
def server(web_venv, model_dir, tmp_path_factory):
    """collectstatic as the image's build does, then the image's command; yields (base URL, the server, its log,
    its environment)."""
    work = tmp_path_factory.mktemp("app")
    port = free_port()
    env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    env.update({name: value for name, value in os.environ.items()
                if name.startswith("CASSANDRA_") and name != "CASSANDRA_KEYSPACE"})
    env.update({
        "PATH": f"{web_venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
        # The image's ENV (Dockerfile), with this machine's folders.
        "DJANGO_SETTINGS_MODULE": "numberfigure.settings.production",
        "DJANGO_STATIC_ROOT": str(work / "staticfiles"),
        "DJANGO_VAR_DIR": str(work / "var"),
        "MODEL_DIR": str(model_dir),
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        # What a deployment sets (.env). HTTPS redirects stay on, as in production.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "CASSANDRA_KEYSPACE": KEYSPACE,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "METRICS_ALLOWED_IPS": "127.0.0.1",
    })
    subprocess.run(["python", "manage.py", "collectstatic", "--noinput", "-v0"], cwd=REPO, env=env, check=True,
                   timeout=300)
    assert (work / "staticfiles" / "staticfiles.json").is_file()  # the manifest WhiteNoise serves from

    drop_keyspace()
    app = start(dockerfile_command(), port=port, log=work / "server.log", env=env)
    try:
        yield f"http://127.0.0.1:{port}", app, app.log, env
    finally:
        app.stop()  # gunicorn's graceful stop
        drop_keyspace()


@pytest.mark.slow  # builds the image's venv (once for each requirements.txt)
def test_web_venv_has_no_tensorflow(web_venv):
    for module in ("tensorflow", "keras"):
        probe = f"import importlib.util as u; print(u.find_spec('{module}'))"
        found = subprocess.run([web_venv / "bin/python", "-c", probe], capture_output=True, text=True,
                               check=True).stdout.strip()
        assert found == "None", f"{module} is installed in the web venv: {found}"
    subprocess.run([web_venv / "bin/python", "-m", "pip", "check"], check=True, capture_output=True)
    size = subprocess.run(["du", "-sk", web_venv], capture_output=True, text=True, check=True).stdout.split()[0]
    print(f"\nweb venv (requirements.txt only): {mib(int(size))}")


@pytest.mark.cassandra  # the server stores predictions in a keyspace of its own
def test_the_image_command_serves_health_predictions_and_metrics(server, digit_png):
    base, app, log_path, env = server

    status, _, body = request(base, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    healthcheck = subprocess.run(dockerfile_exec_forms()["HEALTHCHECK"], env=env, capture_output=True, text=True)
    assert healthcheck.returncode == 0, healthcheck.stderr  # the image's own HEALTHCHECK command
    status, headers, _ = request(base, "/")
    assert status == 301 and headers["Location"].startswith("https://")  # production settings are in force
    status, _, page = request(base, "/", headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    css = next(part.split('"', 1)[0] for part in page.decode().split('href="')[1:] if part.startswith("/static/"))
    status, css_headers, _ = request(base, css, headers={"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"})
    assert status == 200 and "max-age=315360000" in css_headers["Cache-Control"], css  # hashed name, WhiteNoise

    png, label = digit_png(0)
    predictions = []
    for attempt in range(4):  # two workers: let both of them answer some
        status, headers, body = request(
            base, "/api/predict",
            data=json.dumps({"image": "data:image/png;base64," + base64.b64encode(png).decode()}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https",
                     "X-Request-ID": f"deploy-test-{attempt}"},
        )
        assert status == 201, body[:500]
        assert headers["X-Request-ID"] == f"deploy-test-{attempt}"
        predictions.append(json.loads(body))
        if attempt == 0:
            rss = workers_rss(app)
            print(f"\ngunicorn worker RSS after the first prediction: {', '.join(map(mib, sorted(rss.values())))}")
    assert all(p["digit"] in range(10) for p in predictions) and {p["digit"] for p in predictions} == {label}
    assert len(workers_rss(app)) == 2

    status, headers, body = request(base, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(body.decode()) for s in family.samples}

    def value(name, **labels):
        return samples.get((name, tuple(sorted(labels.items()))), 0)

    # Added up over both workers (multiprocess mode).
    assert value("numberfigure_http_requests_total", route="/api/predict", method="POST", status="201") == 4
    assert value("numberfigure_http_request_duration_seconds_count", route="/api/predict", method="POST",
                 status="201") == 4
    assert value("numberfigure_http_requests_total", route="/healthz", method="GET", status="200") >= 2
    assert value("numberfigure_http_requests_total", route="static", method="GET", status="200") == 1
    # Fed by recognizer.services.prediction_store and recognizer.recognition.recognize (recognizer.metrics).
    assert value("numberfigure_predictions_total", source="api", digit=str(label)) == 4, "metrics.count_prediction"
    assert value("numberfigure_model_forward_seconds_count") == 4, "metrics.timed_forward"
    assert value("numberfigure_cassandra_write_seconds_count") == 4, "metrics.cassandra_write"
    assert not any(labels and "deploy-test" in str(labels) for _, labels in samples)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith('{"request_id"')]
    [logged] = [line for line in lines if line["request_id"] == "deploy-test-0"]
    assert (logged["method"], logged["route"], logged["status"]) == ("POST", "/api/predict", 201)
