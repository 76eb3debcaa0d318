"""The API under load as `make run` serves it: latency, throughput, how the load spreads, CPU per request.

Starts `make run` (gunicorn with gunicorn.conf.py) on a free port against the local Cassandra node, in
the keyspace ``--keyspace`` (default ``bench_numberfigure``; dropped at the end, so name one nobody else
uses), with the rate limits raised out of the way (their counting still runs), and drives it with wrk
(``scripts/require wrk``). For ``POST /api/predict`` (recognise and store), ``POST /api/preview``
(recognise only), both with a 280×280 PNG, ``POST /api/predict`` of the drawn "2026" (a 940×280
canvas from bench/canvases.py, four digits read and stored), and ``GET`` of an address nothing
answers (the 404: the framework alone, the machine's phase marker), it prints, per run as it goes:

- p50/p99 latency at concurrency 1 (all four), requests/s at concurrency 16 and 64 (predict, preview);
- CPU per request of the app (master and workers) and of Cassandra, from /proc;
- the share of requests each gunicorn worker served (the app's log line of a request names its worker);

and at the end one table, each figure per round and the median of the rounds, with the figures derived
from one round's runs (preview ÷ 404, predict − preview, the cost of each digit after the first:
the four-digit predict less the one-digit one, ÷ 3, ...) beside their targets. ``--output FILE``
also writes that table as Markdown, headed by the date and the command, for docs/ to include
(bench/report.py; ``FILE#NAME`` writes it into that marked block of a page).

    .venv/bin/python bench/api.py [--seconds 6] [--rounds 3] [--keyspace NAME] [--output FILE[#NAME]]
                                  [--close] [--nginx] [--workers N] [--worker-class CLASS] [--threads N]

At 16 and 64, predict and preview take turns every 2 s until each had ``--seconds``: the machine's
speed drifts by up to ±30 % within minutes, and taking turns puts that drift on both alike, so their
ratio compares like with like; derived figures come from runs of the same round for the same reason.

By default the clients keep their connections alive (browsers and HTTP client sessions do) and talk
to gunicorn directly. ``--close`` adds runs with a new connection per request, ``--nginx`` adds runs
through deploy/nginx's configuration (``scripts/nginx``). wrk shares the 2 cores with the server.
"""

import argparse
import http.client
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from canvases import number_canvas
from cassandra.cluster import Cluster
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # as bench/in_process.py does for the app: harness/ is at the root

import report  # noqa: E402  (bench/report.py)

import harness.server as harness  # noqa: E402

KEYSPACE = "bench_numberfigure"
ENDPOINTS = ("predict", "preview")  # POST the digit PNG; throughput is measured for these
NOT_FOUND = "404"  # GET of an address no URL pattern matches: through every middleware, no view
NUMBER, NUMBER_DIGITS = "2026", 4  # POST /api/predict of a drawn four-digit number, at concurrency 1
PATHS = {"predict": "/api/predict", "preview": "/api/preview", NUMBER: "/api/predict",
         NOT_FOUND: "/api/no-such-address"}
ROUTES = {"predict": "/api/predict", "preview": "/api/preview", NUMBER: "/api/predict",
          NOT_FOUND: "unresolved"}  # the app's log line
BODIES = {"predict": "digit.png", "preview": "digit.png", NUMBER: "number.png"}  # what is POSTed
LATENCY = (*ENDPOINTS, NUMBER, NOT_FOUND)  # the runs at concurrency 1
CONCURRENCY = (1, 16, 64)  # latency at the first, throughput at the others
TURN_SECONDS = 2  # predict and preview take turns this long in a throughput run (``in_turns``)
UNLIMITED = "1000000/s"
SETTLE_SECONDS = 0.2  # after the backlog: longer than the requests other workers still run (``settle``)
TICK = os.sysconf("SC_CLK_TCK")

# wrk: send the request; report exact figures as one JSON line at the end.
WRK_SCRIPT = """
{request}
{close}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{{"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, '
    .. '"socket_errors": %d, "bad_status": %d}}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, e.connect + e.read + e.write + e.timeout,
    e.status))
end
"""


def digit_png() -> bytes:
    """A 280×280 canvas-like drawing of a 7: black strokes on white."""
    canvas = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(canvas).line([(70, 60), (210, 60), (120, 230)], fill=0, width=18, joint="curve")
    out = io.BytesIO()
    canvas.save(out, "PNG")
    return out.getvalue()


def require_wrk() -> str:
    return subprocess.run([ROOT / "scripts" / "require", "wrk"], capture_output=True, text=True,
                          check=True).stdout.strip()


POST_PNG = """
local file = io.open("{body}", "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "image/png"
"""


def wrk_scripts(work: Path) -> dict[tuple[str, bool], Path]:
    """The PNGs in ``work`` and wrk's script for each endpoint, by keep-alive (True) or not (False)."""
    (work / "digit.png").write_bytes(digit_png())
    (work / "number.png").write_bytes(number_canvas(NUMBER))
    scripts = {}
    for endpoint in PATHS:
        request = POST_PNG.format(body=work / BODIES[endpoint]) if endpoint in BODIES else 'wrk.method = "GET"'
        for keep_alive in (True, False):
            scripts[endpoint, keep_alive] = work / f"wrk-{endpoint}-{keep_alive}.lua"
            scripts[endpoint, keep_alive].write_text(WRK_SCRIPT.format(
                request=request, close="" if keep_alive else 'wrk.headers["Connection"] = "close"'))
    return scripts


def read_number(port: int, work: Path) -> str:
    """The number the server reads in the four-digit canvas: the per-digit cost assumes all four."""
    _, body, _, _ = harness.exchange(port, "POST", PATHS[NUMBER], (work / BODIES[NUMBER]).read_bytes(),
                                     {"Content-Type": "image/png"})
    number = json.loads(body)["number"]
    if len(number) != NUMBER_DIGITS:
        raise SystemExit(f"The drawn {NUMBER} is read as {number!r}, not {NUMBER_DIGITS} digits")
    return number


def settle(port: int) -> None:
    """Until the server has worked off what the previous run left. When wrk stops, the requests on
    its connections that wait in the listen backlog are still served one by one (a sync worker cannot
    tell that the client left), and they held up the next run's first request: 180-260 ms after a
    run at 64. At concurrency 1 wrk then corrects for coordinated omission, adding samples as if the
    requests it could not send had waited too, which made that one request a p99 of 60-150 ms.
    A GET /healthz waits in the backlog behind them; the requests still running finish meanwhile."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/healthz")
    connection.getresponse().read()
    connection.close()
    time.sleep(SETTLE_SECONDS)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Server:
    """`make run` and, if asked, nginx in front of it (``harness.server``, as the tests start them)."""

    app: harness.Server
    nginx: harness.Server | None = None

    @property
    def port(self) -> int:
        return self.app.port

    @property
    def nginx_port(self) -> int | None:
        return self.nginx.port if self.nginx else None

    @property
    def log(self) -> Path:
        return self.app.log

    def app_pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        return self.app.pids()

    def worker_pids(self) -> list[int]:
        return self.app.workers()

    def stop(self) -> None:
        for process in (self.nginx, self.app):
            if process is not None:
                process.stop(60)


@cache
def cassandra_pids() -> list[int]:
    """The node the app talks to: the Cassandra process listening on CASSANDRA_PORT here (not another
    one on the machine, e.g. a container's, whose CPU is not the app's and which may come and go)."""
    port = int(os.environ.get("CASSANDRA_PORT", "9042"))
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rpartition(":")[2], 16) == port:  # 0A: listening
                sockets.add(f"socket:[{fields[9]}]")
    found = [pid for pid, (_, command) in harness.processes().items()
             if "CassandraDaemon" in command and sockets & open_files(pid)]
    if not found:
        raise SystemExit(f"No Cassandra node listens on port {port} here")
    return found


def open_files(pid: int) -> set[str]:
    """What a process's file descriptors point to (those that stay open while they are read)."""
    found = set()
    with suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with suppress(OSError):  # closed meanwhile
                found.add(os.readlink(fd))
    return found


def drop_keyspace(keyspace: str = KEYSPACE) -> None:
    with Cluster(["127.0.0.1"], port=int(os.environ.get("CASSANDRA_PORT", "9042"))) as cluster:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {keyspace}")


def start(args: argparse.Namespace, work: Path) -> Server:
    port = harness.free_port()
    env = harness.environment(CASSANDRA_KEYSPACE=args.keyspace, DJANGO_VAR_DIR=str(work / "var"),
                             RATE_LIMIT_PREDICT=UNLIMITED, RATE_LIMIT_PREVIEW=UNLIMITED, RATE_LIMIT_API=UNLIMITED)
    for name, value in (("WEB_CONCURRENCY", args.workers), ("GUNICORN_WORKER_CLASS", args.worker_class),
                        ("GUNICORN_THREADS", args.threads)):
        if value is not None:
            env[name] = str(value)
    started = Server(harness.start(harness.make_run_command(port), port=port, log=work / "server.log", env=env))
    if args.nginx:
        nginx_port = harness.free_port()
        try:
            started.nginx = harness.start(
                [ROOT / "scripts" / "nginx", "--listen", f"127.0.0.1:{nginx_port}", "--upstream", f"127.0.0.1:{port}",
                 "--predict-rate", "1000000r/s", "--predict-burst", "1000", "--dir", work / "nginx"],
                port=nginx_port, log=work / "nginx.log")
        except BaseException:
            started.stop()
            raise
    return started


@dataclass(frozen=True)
class Run:
    endpoint: str
    concurrency: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    served: dict[int, int]  # requests per worker pid
    app_cpu_ms: float  # per request
    cassandra_cpu_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def worker_shares(self) -> list[float]:
        """Of the requests, per worker, largest first."""
        total = sum(self.served.values()) or 1
        return sorted((count / total for count in self.served.values()), reverse=True)


def load(server: Server, port: int, endpoint: str, concurrency: int, seconds: int, scripts: dict, keep_alive: bool,
         wrk: str) -> Run:
    """One wrk run, once the server has settled; CPU and worker shares measured over it."""
    settle(port)
    app, cassandra, workers = server.app_pids(), cassandra_pids(), server.worker_pids()
    cpu_before = sum(map(cpu_seconds, app)), sum(map(cpu_seconds, cassandra))
    log_start = server.log.stat().st_size
    threads = min(2, concurrency)
    output = subprocess.run([wrk, f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
                             "-s", str(scripts[endpoint, keep_alive]), f"http://127.0.0.1:{port}{PATHS[endpoint]}"],
                            capture_output=True, text=True, check=True).stdout
    app_cpu = sum(map(cpu_seconds, app)) - cpu_before[0]
    cassandra_cpu = sum(map(cpu_seconds, cassandra)) - cpu_before[1]
    figures = json.loads(output.strip().splitlines()[-1])
    with server.log.open("rb") as log:
        log.seek(log_start)
        lines = log.read()
    route = f'"route": "{ROUTES[endpoint]}"'.encode()
    refused = figures["requests"] if endpoint == NOT_FOUND else 0  # wrk counts every status from 400 up
    if figures["socket_errors"] or figures["bad_status"] != refused or not figures["requests"]:
        statuses = Counter(re.findall(route + rb', "status": (\d+)', lines))
        raise SystemExit(f"{endpoint} at {concurrency}: {figures['socket_errors']} socket errors, "
                         f"{figures['bad_status'] - refused} unexpected answers (the app's: {dict(statuses)}):"
                         f"\n{output}")
    served = Counter(re.findall(route + rb'.*"worker": (\d+)', lines))
    return Run(endpoint, concurrency, figures["requests"], figures["seconds"], figures["p50_ms"], figures["p99_ms"],
               {pid: served.get(str(pid).encode(), 0) for pid in workers},
               app_cpu * 1000 / figures["requests"], cassandra_cpu * 1000 / figures["requests"])


def in_turns(server: Server, port: int, concurrency: int, seconds: int, scripts: dict, keep_alive: bool,
             wrk: str) -> list[Run]:
    """Both endpoints' throughput runs, taking turns every TURN_SECONDS: the machine's speed drifts by
    up to ±30 % within minutes, and taking turns puts that drift on predict and preview alike."""
    turns: dict[str, list[Run]] = {endpoint: [] for endpoint in ENDPOINTS}
    for _ in range(max(1, round(seconds / TURN_SECONDS))):
        for endpoint in ENDPOINTS:
            turns[endpoint].append(load(server, port, endpoint, concurrency, TURN_SECONDS, scripts, keep_alive, wrk))
    return [combined(runs) for runs in turns.values()]


def combined(turns: list[Run]) -> Run:
    """One endpoint's turns as one run: requests, seconds and CPU added up; the turns' median p50 and
    highest p99 (wrk reports percentiles, not the latencies behind them)."""
    requests = sum(turn.requests for turn in turns)
    served = Counter()
    for turn in turns:
        served.update(turn.served)
    return Run(turns[0].endpoint, turns[0].concurrency, requests, sum(turn.seconds for turn in turns),
               statistics.median(turn.p50_ms for turn in turns), max(turn.p99_ms for turn in turns), dict(served),
               sum(turn.app_cpu_ms * turn.requests for turn in turns) / requests,
               sum(turn.cassandra_cpu_ms * turn.requests for turn in turns) / requests)


def one_line(run: Run) -> str:
    """A run's figures as it ends."""
    latency = f"p50 {run.p50_ms:.2f} ms  p99 {run.p99_ms:.2f} ms"
    shares = " ".join(f"{share:.0%}" for share in run.worker_shares)
    return (f"  {run.endpoint:<8} c{run.concurrency:<3} {run.per_second:6.0f}/s  {latency}   CPU/request app "
            f"{run.app_cpu_ms:.2f} ms, Cassandra {run.cassandra_cpu_ms:.2f} ms   workers {shares}")


@dataclass(frozen=True)
class Figure:
    """A row of the table: its name, how one round's runs give it, and the issue's target if it has one."""

    name: str
    of: Callable[[dict[tuple[str, int], Run]], float]
    digits: int = 2
    target: str = ""


def net_cassandra(runs: dict[tuple[str, int], Run], concurrency: int) -> float:
    """Cassandra's CPU per predict less what the node spent meanwhile on others (a shared node: other
    keyspaces, compaction), taken as its rate during the preview turns, which store nothing; the
    turns alternate every TURN_SECONDS and last as long in all, so that rate is sampled alike."""
    predict, preview = runs["predict", concurrency], runs["preview", concurrency]
    return predict.cassandra_cpu_ms - preview.cassandra_cpu_ms * preview.per_second / predict.per_second


FIGURES = (
    *(Figure(f"{endpoint} {percentile} at c1, ms", lambda r, e=endpoint, p=percentile: getattr(r[e, 1], f"{p}_ms"))
      for endpoint in LATENCY for percentile in ("p50", "p99")),
    *(Figure(f"{endpoint} at c{c}, requests/s", lambda r, e=endpoint, c=c: r[e, c].per_second, 0)
      for c in CONCURRENCY[1:] for endpoint in ENDPOINTS),
    *(Figure(f"{side} CPU per {endpoint} at c{c}, ms", lambda r, e=endpoint, c=c, f=field: getattr(r[e, c], f))
      for c in CONCURRENCY for endpoint in LATENCY if c == 1 or endpoint in ENDPOINTS
      for side, field in (("app", "app_cpu_ms"), ("Cassandra", "cassandra_cpu_ms"))),
    Figure("**preview p50 ÷ 404 p50, c1**", lambda r: r["preview", 1].p50_ms / r[NOT_FOUND, 1].p50_ms,
           target="≤ 2.0"),
    Figure("**predict p50 − preview p50, c1, ms**", lambda r: r["predict", 1].p50_ms - r["preview", 1].p50_ms,
           target="≤ 1.5"),
    Figure("**app CPU per predict − per preview, c16, ms**",
           lambda r: r["predict", 16].app_cpu_ms - r["preview", 16].app_cpu_ms, target="≤ 1.0"),
    Figure("Cassandra CPU per predict at c16 net of the node's other work, ms", lambda r: net_cassandra(r, 16)),
    Figure("**app + Cassandra CPU per predict, c16, ms**",
           lambda r: r["predict", 16].app_cpu_ms + r["predict", 16].cassandra_cpu_ms, target="≤ 3.5"),
    Figure("**app + net Cassandra CPU per predict, c16, ms**",
           lambda r: r["predict", 16].app_cpu_ms + net_cassandra(r, 16), target="≤ 3.5"),
    Figure("**predict p99 at c1, ms**", lambda r: r["predict", 1].p99_ms, target="≤ 12"),
    Figure(f"**predict p50 per digit after the first, c1, ms** ({NUMBER} − one digit) ÷ {NUMBER_DIGITS - 1}",
           lambda r: (r[NUMBER, 1].p50_ms - r["predict", 1].p50_ms) / (NUMBER_DIGITS - 1)),
    Figure(f"**app CPU per digit after the first, c1, ms** ({NUMBER} − one digit) ÷ {NUMBER_DIGITS - 1}",
           lambda r: (r[NUMBER, 1].app_cpu_ms - r["predict", 1].app_cpu_ms) / (NUMBER_DIGITS - 1)),
    *(Figure(f"predict ÷ preview throughput, c{c}", lambda r, c=c: r["predict", c].per_second
             / r["preview", c].per_second) for c in CONCURRENCY[1:]),
)


def table(rounds: list[dict[tuple[str, int], Run]]) -> str:
    """Markdown: each figure per round, the rounds' median, and its target."""
    head = ["figure", *(f"round {number}" for number in range(1, len(rounds) + 1)), "median", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for figure in FIGURES:
        values = [figure.of(runs) for runs in rounds]
        cells = [f"{value:.{figure.digits}f}" for value in (*values, statistics.median(values))]
        lines.append(f"| {figure.name} | " + " | ".join(cells) + f" | {figure.target} |")
    return "\n".join(lines)


def measure(server: Server, port: int, args: argparse.Namespace, scripts: dict, keep_alive: bool,
            wrk: str) -> list[dict[tuple[str, int], Run]]:
    """``--rounds`` rounds of every run, each printed as it ends; a dict of each round's runs."""
    rounds = []
    for number in range(1, args.rounds + 1):
        print(f"round {number}:", flush=True)
        runs = [load(server, port, endpoint, 1, args.seconds, scripts, keep_alive, wrk)
                for endpoint in LATENCY]
        for run in runs:
            print(one_line(run), flush=True)
        for concurrency in CONCURRENCY[1:]:
            for run in in_turns(server, port, concurrency, args.seconds, scripts, keep_alive, wrk):
                print(one_line(run), flush=True)
                runs.append(run)
        rounds.append({(run.endpoint, run.concurrency): run for run in runs})
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="repeat every run; the table gives their median")
    parser.add_argument("--keyspace", default=KEYSPACE, help="Cassandra keyspace to fill (dropped at the end)")
    report.add_argument(parser)  # the table(s) as Markdown
    parser.add_argument("--close", action="store_true", help="also run with a new connection per request")
    parser.add_argument("--nginx", action="store_true", help="also run through nginx (deploy/nginx)")
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY (default: gunicorn.conf.py's)")
    parser.add_argument("--worker-class",
                        help="GUNICORN_WORKER_CLASS, e.g. sync or gthread (default: gunicorn.conf.py's WarmSyncWorker)")
    parser.add_argument("--threads", type=int, help="GUNICORN_THREADS, for gthread workers")
    args = parser.parse_args()
    wrk = require_wrk()
    tables = []
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        work = Path(folder)
        scripts = wrk_scripts(work)
        server = start(args, work)
        try:
            workers = len(server.worker_pids())
            print(f"make run: gunicorn, {workers} {args.worker_class or 'configured'} workers"
                  f"{f' × {args.threads} threads' if args.threads else ''}; wrk runs of {args.seconds:g} s; "
                  f"a 280×280 PNG, {NUMBER} read as {read_number(server.port, work)}; CPU from /proc")
            routes = [("direct", server.port)] + ([("nginx", server.nginx_port)] if args.nginx else [])
            for endpoint in ENDPOINTS:  # every worker loads the model and connects before anything counts
                load(server, server.port, endpoint, 2 * workers, 5, scripts, True, wrk)
            for route, port in routes:
                for keep_alive in (True, False) if args.close else (True,):
                    title = f"{route}, {'keep-alive' if keep_alive else 'a new connection per request'}"
                    print(f"\n{title}")
                    tables.append(f"{title}:\n\n{table(measure(server, port, args, scripts, keep_alive, wrk))}")
                    print(f"\n{tables[-1]}")
        finally:
            server.stop()
            drop_keyspace(args.keyspace)
    if args.output:
        args.output.write("\n\n".join(tables), note=f"{workers} workers")


if __name__ == "__main__":
    main()
