"""docker-compose.yml run for real: every image built with podman (scripts/compose-images: the Dockerfile for
the web image, stand-ins for the official ones), the stack started with podman-compose, used through nginx
as a visitor uses it, and its containers restarted and recreated.

Podman 4.3 (Debian 12) does not wait for `service_healthy`, so the stack is started in the order compose
would start it, each service once its own health check (the compose file's, the image's) passes.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from helpers.servers import logged

from harness.server import ROOT as REPO
from harness.server import exchange, free_port, request

PREVIEWS = 8  # RATE_LIMIT_PREVIEW of the stack, per hour
CONTAINERS_CONF = REPO / "deploy" / "standins" / "containers.conf"
PODMAN_COMPOSE = Path(sys.executable).parent / "podman-compose"  # requirements-dev.txt

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.cassandra,  # its stack runs a Cassandra node of its own (in a container)
    pytest.mark.skipif(shutil.which("podman") is None,
                       reason="podman not installed: `make compose-test` installs it (scripts/require podman)"),
    pytest.mark.timeout(1800),  # a first run builds every image (docs/deploy.md)
]


class Stack:
    """One compose project of docker-compose.yml, its own name, passwords and published port."""

    def __init__(self, work: Path):
        self.project = f"nf{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.secrets = {name: secrets.token_urlsafe(16) for name in ("REDIS_PASSWORD", "CASSANDRA_PASSWORD")}
        # The stack's .env, as an operator writes it from .env.example (compose reads it, and the web
        # container gets it), with limits low enough to reach in a test.
        self.env_file = work / "stack.env"
        self.env_file.write_text("\n".join([
            "DJANGO_SETTINGS_MODULE=numberfigure.settings.production",
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
            "DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,web",  # web: as a scraper of web:8000 asks (docs/operations.md)
            "DJANGO_SECURE_SSL_REDIRECT=false",
            "CASSANDRA_USERNAME=numberfigure",
            *(f"{name}={value}" for name, value in self.secrets.items()),
            "CASSANDRA_MAX_HEAP_SIZE=512M",
            "CASSANDRA_HEAP_NEWSIZE=128M",
            "CASSANDRA_REQUEST_TIMEOUT=2",
            "WEB_CONCURRENCY=3",
            f"WEB_PORT={self.port}",
            "METRICS_ALLOWED_IPS=127.0.0.1",
            # web's and prometheus's network: one of its own, beside a stack on the default (docs/deploy.md)
            f"METRICS_SUBNET=172.31.254.{16 * secrets.randbelow(16)}/28",
            f"RATE_LIMIT_PREVIEW={PREVIEWS}/h",
            "RATE_LIMIT_PREDICT=10000/h",
            # nginx's own per-address limit out of the way: the app's, counted in Redis, is tested
            "NGINX_PREDICT_RATE=1000r/s",
            "NGINX_PREDICT_BURST=1000",
        ]) + "\n")
        # Nothing else of the caller's environment (CASSANDRA_HOSTS, …) reaches the compose file.
        self.env = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "TMPDIR")}
        self.env.update(CONTAINERS_CONF=str(CONTAINERS_CONF), ENV_FILE=str(self.env_file))

    def compose(self, *args: str, timeout: float = 300) -> None:
        run([str(PODMAN_COMPOSE), "--env-file", str(self.env_file), "-p", self.project, *args], self.env, timeout)

    def podman(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        return run(["podman", *args], self.env, timeout, check)

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def wait_healthy(self, service: str, seconds: float = 240) -> None:
        """Until the container's own health check passes (podman runs it on request here: no systemd)."""
        deadline = time.monotonic() + seconds
        while subprocess.run(["podman", "healthcheck", "run", self.container(service)], env=self.env,
                             capture_output=True, timeout=60).returncode != 0:
            assert time.monotonic() < deadline, f"{service} never healthy:\n{self.logs(service)[-3000:]}"
            time.sleep(2)

    def logs(self, service: str) -> str:
        """The container's output and errors (gunicorn's and the app's request log are on stderr)."""
        return subprocess.run(["podman", "logs", self.container(service)], env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=60).stdout

    def up(self) -> None:
        """Starts the services in compose's order, each once what it depends on is healthy."""
        self.compose("up", "-d", "--no-deps", "cassandra", "redis")
        self.wait_healthy("cassandra")
        self.compose("up", "-d", "--no-deps", "web")
        self.wait_healthy("web")
        self.compose("up", "-d", "--no-deps", "prometheus", "nginx")
        self.wait_answering()
        # Podman's DNS (aardvark-dns) reloads as each container joins; once, under heavy load, web could not
        # resolve redis for 20 s after nginx joined (docs/deploy.md). Up means web finds its peers by name.
        resolve = "import socket; [socket.getaddrinfo(name, None) for name in ('redis', 'cassandra')]"
        deadline = time.monotonic() + 60
        while self.podman("exec", self.container("web"), "python", "-c", resolve, check=False).returncode:
            assert time.monotonic() < deadline, "web does not resolve redis and cassandra"

    def prometheus(self, query: str) -> dict:
        """An answer of the prometheus container's HTTP API (published nowhere), asked from inside it."""
        done = self.podman("exec", self.container("prometheus"), "wget", "-qO-", f"http://localhost:9090/api/v1/{query}")
        answer = json.loads(done.stdout)
        assert answer["status"] == "success", answer
        return answer["data"]

    def wait_answering(self) -> None:
        """Until /healthz answers 200 through nginx."""
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"nginx does not answer:\n{self.logs('nginx')[-3000:]}"
            time.sleep(0.5)

    def get(self, path: str, **kwargs) -> tuple[int, bytes]:
        return request(self.port, "GET", path, **kwargs)[:2]

    def predict(self, png: bytes) -> tuple[int, dict]:
        status, body, _ = request(self.port, "POST", "/api/predict", png, {"Content-Type": "image/png"})
        return status, json.loads(body)

    def wait_stored(self, prediction_id: str, seconds: float = 120) -> dict:
        """The prediction as read back from Cassandra, once it is there."""
        deadline = time.monotonic() + seconds
        while True:
            status, body = self.get(f"/api/predictions/{prediction_id}")
            if status == 200:
                return json.loads(body)
            assert time.monotonic() < deadline, f"{prediction_id} not stored: {status} {body[:300]}"
            time.sleep(1)


def run(command: list[str], env: dict, timeout: float, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    built = subprocess.run([REPO / "scripts" / "compose-images"], cwd=REPO, capture_output=True, text=True,
                           env={**os.environ, "PODMAN_COMPOSE": str(PODMAN_COMPOSE)})
    assert built.returncode == 0, built.stderr[-5000:]
    print("", *(line for line in built.stderr.splitlines() if line.startswith("compose-images:")), sep="\n")
    stack = Stack(tmp_path_factory.mktemp("compose"))
    try:
        stack.up()
        yield stack
    finally:
        for service in ("web", "cassandra"):
            (tmp_path_factory.getbasetemp() / f"{stack.project}-{service}.log").write_text(stack.logs(service))
        stack.compose("down", "--volumes", timeout=180)


def test_healthz_and_the_draw_page_with_its_static_files_through_nginx(stack):
    status, body = stack.get("/healthz")
    assert (status, json.loads(body)["status"]) == (200, "ok")

    status, page = stack.get("/draw")
    assert status == 200 and b"<canvas" in page
    assets = re.findall(rb'(?:src|href)="(/static/[^"]+)"', page)
    assert any(a.endswith(b".js") for a in assets) and any(a.endswith(b".css") for a in assets)
    for asset in assets:
        status, content, _, headers = exchange(stack.port, "GET", asset.decode())
        assert status == 200 and content, asset
        assert "immutable" in headers.get("Cache-Control", ""), asset  # WhiteNoise's hashed files


def test_a_prediction_is_stored_in_cassandra_and_read_back(stack, digit_png):
    png, label = digit_png(0)
    status, answer = stack.predict(png)
    assert status == 201 and answer["stored"] != "pending", answer
    stored = stack.wait_stored(answer["id"], seconds=10)
    assert stored["id"] == answer["id"] and stored["digit"] == answer["digit"] == label


def test_cassandra_and_redis_refuse_clients_without_the_password(stack):
    def cqlsh(*login: str) -> subprocess.CompletedProcess:
        return stack.podman("exec", stack.container("cassandra"), "cqlsh", *login, "-e", "describe keyspaces",
                            check=False)

    assert "numberfigure" in cqlsh("-u", "numberfigure", "-p", stack.secrets["CASSANDRA_PASSWORD"]).stdout
    assert "requires authentication" in cqlsh().stderr
    assert "Bad credentials" in cqlsh("-u", "cassandra", "-p", "cassandra").stderr  # the default superuser's

    def redis(*login: str) -> str:
        return stack.podman("exec", stack.container("redis"), "redis-cli", *login, "ping", check=False).stdout

    assert redis("-a", stack.secrets["REDIS_PASSWORD"], "--no-auth-warning").strip() == "PONG"
    assert "NOAUTH" in redis()


def test_metrics_are_refused_outside_the_allow_list(stack):
    assert stack.get("/metrics")[0] == 404  # nginx: never through the public site
    fetch = "import urllib.request as u, sys; print(u.urlopen(sys.argv[1]).status)"
    inside = stack.podman("exec", stack.container("web"), "python", "-c", fetch, "http://127.0.0.1:8000/metrics")
    assert inside.stdout.strip() == "200"  # METRICS_ALLOWED_IPS=127.0.0.1
    # From another container of the internal network, not listed
    refused = stack.podman("exec", stack.container("cassandra"), "python3", "-c", fetch, "http://web:8000/metrics",
                           check=False)
    assert "HTTP Error 403" in refused.stderr


def test_prometheus_scrapes_web_through_the_metrics_network_and_loads_the_alert_rules(stack):
    deadline = time.monotonic() + 90  # the first scrape comes within one scrape_interval (15 s) of its start
    while True:
        targets = stack.prometheus("targets?state=active")["activeTargets"]  # none until its first sync
        scraped = stack.prometheus("query?query=numberfigure_http_requests_total")["result"]
        if [target["health"] for target in targets] == ["up"] and scraped:
            break
        assert time.monotonic() < deadline, f"{targets}\n{stack.logs('prometheus')[-3000:]}"
        time.sleep(2)
    [target] = targets
    assert target["scrapeUrl"] == "http://web:8000/metrics" and target["lastError"] == ""
    assert {series["metric"]["job"] for series in scraped} == {"numberfigure"}  # the app's own counters

    shipped = {rule["alert"] for group in yaml.safe_load((REPO / "deploy" / "prometheus" / "alerts.yml").read_text())
               ["groups"] for rule in group["rules"]}
    assert {"NumberfigureDriftModerate", "NumberfigureDriftSignificant", "NumberfigureUnsureShareDoubled"} <= shipped
    deadline = time.monotonic() + 60
    while True:  # a rule's health is "unknown" until its group's first evaluation (evaluation_interval, 15 s)
        loaded = {rule["name"]: rule for group in stack.prometheus("rules?type=alert")["groups"]
                  for rule in group["rules"]}
        if all(rule["health"] != "unknown" for rule in loaded.values()) or time.monotonic() >= deadline:
            break
        time.sleep(2)
    assert set(loaded) == shipped
    assert all(rule["health"] == "ok" for rule in loaded.values()), loaded

    # Prometheus is on the metrics network alone with web: it cannot even name the other services.
    reached = stack.podman("exec", stack.container("prometheus"), "wget", "-O-", "-T", "3", "http://cassandra:9042",
                           check=False)
    # GNU wget's words (the stand-in's), then busybox wget's (the official image's)
    assert re.search("unable to resolve host address|bad address", reached.stderr), reached.stderr


def test_previews_past_the_rate_get_429_counted_in_redis_across_workers(stack, digit_png, tmp_path):
    png, _ = digit_png(1)
    with ThreadPoolExecutor(6) as pool:  # at once, so that several workers take them
        answers = list(pool.map(lambda _: request(stack.port, "POST", "/api/preview", png,
                                                  {"Content-Type": "image/png"})[:2], range(PREVIEWS + 6)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * PREVIEWS + [429] * 6
    assert all("at most" in json.loads(body)["error"] for status, body in answers if status == 429)  # the app's

    log = tmp_path / "web.log"
    log.write_text(stack.logs("web"))
    served = logged(log, 0, "/api/preview")  # the only previews of the stack
    assert len(served) == PREVIEWS + 6
    assert len({entry["worker"] for entry in served}) >= 2  # each counting alone would let more through

    every_count = ("local c = {} for _, k in ipairs(redis.call('keys', '*')) do c[#c + 1] = redis.call('get', k) end "
                   "return c")
    counts = stack.podman("exec", stack.container("redis"), "redis-cli", "-a", stack.secrets["REDIS_PASSWORD"],
                          "--no-auth-warning", "eval", every_count, "0").stdout.split()
    assert str(PREVIEWS + 6) in counts, counts  # this client's previews, counted in Redis


def test_a_new_web_container_finds_the_outbox_on_its_volume_and_stores_what_waited(stack, digit_png):
    png, label = digit_png(2)
    stack.compose("stop", "cassandra")
    try:
        status, answer = stack.predict(png)
        assert status == 202 and answer["stored"] == "pending", answer
        outbox = stack.podman("exec", stack.container("web"), "find", "/app/var/outbox", "-type", "f").stdout
        assert answer["id"] in outbox
        # The container goes before Cassandra is back: only the web-var volume can carry the prediction over.
        stack.podman("rm", "--force", "--time", "30", stack.container("web"))
    finally:
        stack.compose("start", "cassandra")
    stack.wait_healthy("cassandra")
    stack.compose("up", "-d", "--no-deps", "web")
    stack.wait_healthy("web")
    # What docker compose does for nginx's `restart: true` (podman-compose does not): the new container
    # has a new address, which nginx looks up at start.
    stack.compose("restart", "nginx")
    stack.wait_answering()
    assert stack.wait_stored(answer["id"])["digit"] == label


def test_a_cassandra_restart_under_traffic_loses_nothing(stack, digit_png):
    png, _ = digit_png(3)
    answers: list[tuple[int, dict]] = []
    done = threading.Event()

    def traffic():
        while not done.is_set():
            answers.append(stack.predict(png))
            time.sleep(0.1)

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        time.sleep(2)
        stack.podman("restart", stack.container("cassandra"), timeout=180)
        stack.wait_healthy("cassandra")
        time.sleep(2)
    finally:
        done.set()
        sender.join()
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {201, 202} and statuses.count(202) > 0 and statuses.count(201) > 0
    for _, answer in answers:
        stack.wait_stored(answer["id"])
