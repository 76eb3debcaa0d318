"""The API under load as `make run` serves it: latency, throughput, how the load spreads, CPU per request.

Starts `make run` (gunicorn with gunicorn.conf.py) on a free port against the local Cassandra node, in
the keyspace ``bench_numberfigure`` (dropped at the end), with the rate limits raised out of the way
(their counting still runs), and drives it with wrk (``scripts/require wrk``). For
``POST /api/predict`` (recognise and store) and ``POST /api/preview`` (recognise only), with a
280×280 PNG, it prints:

- p50/p99 latency at concurrency 1;
- requests/s at concurrency 16 and 64, and the ratio predict/preview;
- the CPU a predict costs more than a preview (storing it, and answering with the stored prediction);
- the share of requests each gunicorn worker served (the app's log line of a request names its worker);
- CPU per request of the app (master and workers) and of Cassandra, from /proc;
- a four-digit canvas beside the single digit at concurrency 1, and the cost of each extra digit.

    .venv/bin/python bench/api.py [--seconds 10] [--rounds 1] [--close] [--nginx] [--workers N]
                                  [--worker-class CLASS] [--threads N]

At 16 and 64, predict and preview take turns every 2 s until each had ``--seconds``: the machine's
speed drifts by up to ±30 % within minutes, and taking turns puts that drift on both alike, so their
ratio compares like with like. ``--rounds N`` repeats every run N times and prints each figure as its
lowest–highest, the ratio from runs of the same round.

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
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import canvases
from cassandra.cluster import Cluster
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
KEYSPACE = "bench_numberfigure"
ENDPOINTS = ("predict", "preview")
CONCURRENCY = (1, 16, 64)  # latency at the first, throughput at the others
TURN_SECONDS = 2  # predict and preview take turns this long in a throughput run (``in_turns``)
UNLIMITED = "1000000/s"
SETTLE_SECONDS = 0.2  # after the backlog: longer than the requests other workers still run (``settle``)
TICK = os.sysconf("SC_CLK_TCK")

# wrk: POST the body file; report exact figures as one JSON line at the end.
WRK_SCRIPT = """
local file = io.open("{body}", "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "image/png"
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_wrk() -> str:
    return subprocess.run([ROOT / "scripts" / "require", "wrk"], capture_output=True, text=True,
                          check=True).stdout.strip()


def number_script(work: Path) -> Path:
    """wrk's script posting a four-digit canvas ("2026", bench/canvases.py), keeping connections alive."""
    (work / "number.png").write_bytes(canvases.number_canvas("2026"))
    script = work / "wrk-number.lua"
    script.write_text(WRK_SCRIPT.format(body=work / "number.png", close=""))
    return script


def wrk_scripts(work: Path) -> dict[bool, Path]:
    """The digit PNG in ``work`` and wrk's script posting it, by keep-alive (True) or not (False)."""
    (work / "digit.png").write_bytes(digit_png())
    scripts = {}
    for keep_alive in (True, False):
        scripts[keep_alive] = work / f"wrk-{keep_alive}.lua"
        scripts[keep_alive].write_text(WRK_SCRIPT.format(
            body=work / "digit.png", close="" if keep_alive else 'wrk.headers["Connection"] = "close"'))
    return scripts


def wait_until_up(port: int, process: subprocess.Popen, what: str) -> None:
    """Until GET /healthz answers 200 on the port."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited (exit code {process.returncode})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer GET /healthz on port {port} in 120 s")


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


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
                found[int(entry.name)] = (parent, (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return found


@dataclass
class Server:
    """`make run` and, if asked, nginx in front of it; their processes and the app's log."""

    make: subprocess.Popen
    port: int
    log: Path
    nginx: subprocess.Popen | None = None
    nginx_port: int | None = None

    def app_pids(self, table: dict[int, tuple[int, str]] | None = None) -> list[int]:
        """make's descendants: the gunicorn master and its workers."""
        table, found, frontier = table or processes(), [], [self.make.pid]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, (ppid, _) in table.items() if ppid == parent]
            found += children
            frontier += children
        return [pid for pid in found if "gunicorn" in table[pid][1]]

    def worker_pids(self) -> list[int]:
        """The gunicorn processes whose parent is gunicorn too (the master)."""
        table = processes()
        app = self.app_pids(table)
        return [pid for pid in app if table[pid][0] in app]

    def stop(self) -> None:
        for process in (self.nginx, self.make):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(60)


def cassandra_pids() -> list[int]:
    return [pid for pid, (_, command) in processes().items() if "CassandraDaemon" in command]


def drop_keyspace() -> None:
    with Cluster(["127.0.0.1"], port=int(os.environ.get("CASSANDRA_PORT", "9042"))) as cluster:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")


def start(args: argparse.Namespace, work: Path) -> Server:
    port = free_port()
    env = {**os.environ, "CASSANDRA_KEYSPACE": KEYSPACE, "DJANGO_VAR_DIR": str(work / "var"),
           "RATE_LIMIT_PREDICT": UNLIMITED, "RATE_LIMIT_PREVIEW": UNLIMITED, "RATE_LIMIT_API": UNLIMITED,
           "PYTHONUNBUFFERED": "1"}
    for name, value in (("WEB_CONCURRENCY", args.workers), ("GUNICORN_WORKER_CLASS", args.worker_class),
                        ("GUNICORN_THREADS", args.threads)):
        if value is not None:
            env[name] = str(value)
    with (work / "server.log").open("wb") as log:  # the children keep their own copy of it
        make = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        server = Server(make, port, work / "server.log")
        if args.nginx:
            server.nginx_port = free_port()
            server.nginx = subprocess.Popen(
                [ROOT / "scripts" / "nginx", "--listen", f"127.0.0.1:{server.nginx_port}", "--upstream",
                 f"127.0.0.1:{port}", "--predict-rate", "1000000r/s", "--predict-burst", "1000",
                 "--dir", work / "nginx"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_until_up(port, make, f"make run (log: {work / 'server.log'})")
    if server.nginx:
        wait_until_up(server.nginx_port, server.nginx, "nginx")
    return server


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


def load(server: Server, port: int, endpoint: str, concurrency: int, seconds: int, script: Path,
         wrk: str) -> Run:
    """One wrk run, once the server has settled; CPU and worker shares measured over it."""
    settle(port)
    app, cassandra, workers = server.app_pids(), cassandra_pids(), server.worker_pids()
    cpu_before = sum(map(cpu_seconds, app)), sum(map(cpu_seconds, cassandra))
    log_start = server.log.stat().st_size
    threads = min(2, concurrency)
    output = subprocess.run([wrk, f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s",
                             "-s", str(script), f"http://127.0.0.1:{port}/api/{endpoint}"],
                            capture_output=True, text=True, check=True).stdout
    app_cpu = sum(map(cpu_seconds, app)) - cpu_before[0]
    cassandra_cpu = sum(map(cpu_seconds, cassandra)) - cpu_before[1]
    figures = json.loads(output.strip().splitlines()[-1])
    with server.log.open("rb") as log:
        log.seek(log_start)
        lines = log.read()
    route = f'"route": "/api/{endpoint}"'.encode()
    if figures["socket_errors"] or figures["bad_status"] or not figures["requests"]:
        statuses = Counter(re.findall(route + rb', "status": (\d+)', lines))
        raise SystemExit(f"{endpoint} at {concurrency}: {figures['socket_errors']} socket errors, "
                         f"{figures['bad_status']} answers that were not 2xx (the app's: {dict(statuses)}):\n{output}")
    served = Counter(re.findall(route + rb'.*"worker": (\d+)', lines))
    return Run(endpoint, concurrency, figures["requests"], figures["seconds"], figures["p50_ms"], figures["p99_ms"],
               {pid: served.get(str(pid).encode(), 0) for pid in workers},
               app_cpu * 1000 / figures["requests"], cassandra_cpu * 1000 / figures["requests"])


def in_turns(server: Server, port: int, concurrency: int, seconds: int, script: Path, wrk: str) -> list[Run]:
    """Both endpoints' throughput runs, taking turns every TURN_SECONDS: the machine's speed drifts by
    up to ±30 % within minutes, and taking turns puts that drift on predict and preview alike."""
    turns: dict[str, list[Run]] = {endpoint: [] for endpoint in ENDPOINTS}
    for _ in range(max(1, round(seconds / TURN_SECONDS))):
        for endpoint in ENDPOINTS:
            turns[endpoint].append(load(server, port, endpoint, concurrency, TURN_SECONDS, script, wrk))
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


def span(values: list[float], digits: int = 1) -> str:
    """One figure over the rounds: its value, or its lowest–highest."""
    low, high = (f"{value:.{digits}f}" for value in (min(values), max(values)))
    return low if low == high else f"{low}–{high}"


def figure(runs: list[Run], name: str, digits: int = 1) -> str:
    """A field of the same run over the rounds (``span``)."""
    return span([getattr(run, name) for run in runs], digits)


def report(title: str, rounds: list[list[Run]]) -> None:
    """Each figure of each run, as a range when there were several rounds."""
    print(f"\n{title}" + (f" ({len(rounds)} rounds, lowest–highest)" if len(rounds) > 1 else ""))
    by_key: dict[tuple[str, int], list[Run]] = {}
    for run in (run for one_round in rounds for run in one_round):
        by_key.setdefault((run.endpoint, run.concurrency), []).append(run)
    for (endpoint, concurrency), runs in by_key.items():
        if len(runs) == 1:
            shares = " ".join(f"{share:.0%}" for share in runs[0].worker_shares)
        else:
            shares = f"each {span([100 * share for run in runs for share in run.worker_shares], 0)} %"
        head = f"  {endpoint:<8} c{concurrency:<3}"
        latency = f"p50 {figure(runs, 'p50_ms')} ms  p99 {figure(runs, 'p99_ms')} ms"
        rate = f"{figure(runs, 'per_second', 0)}/s"
        head += f" {latency}  {rate}" if concurrency == 1 else f" {rate}  {latency}"
        print(f"{head}   CPU/request app {figure(runs, 'app_cpu_ms', 2)} ms, "
              f"Cassandra {figure(runs, 'cassandra_cpu_ms', 2)} ms"
              f"   workers {shares}")
    ratios, extra_cpu = [], []
    for concurrency in (c for c in CONCURRENCY if c > 1):
        pairs = list(zip(by_key["predict", concurrency], by_key["preview", concurrency], strict=True))
        ratio = span([predict.per_second / preview.per_second for predict, preview in pairs], 2)
        ratios.append(f"c{concurrency} {ratio}")
        app = span([predict.app_cpu_ms - preview.app_cpu_ms for predict, preview in pairs], 2)
        node = span([predict.cassandra_cpu_ms - preview.cassandra_cpu_ms for predict, preview in pairs], 2)
        extra_cpu.append(f"c{concurrency} app {app} + Cassandra {node} ms")
    print(f"  predict/preview throughput (same round): {', '.join(ratios)}")
    print(f"  CPU a predict costs more than a preview (same round): {', '.join(extra_cpu)}")


def report_digits(one: list[Run], four: list[Run]) -> None:
    """A four-digit canvas beside the single digit, at concurrency 1, and what each digit after the first costs."""
    print('\nfour digits ("2026" on a 940×280 canvas) beside one, concurrency 1:')
    for single, number in zip(one, four, strict=True):
        extra = (number.p50_ms - single.p50_ms) / 3, (number.app_cpu_ms - single.app_cpu_ms) / 3
        print(f"  {single.endpoint:<8} p50 {single.p50_ms:.1f} -> {number.p50_ms:.1f} ms, app CPU "
              f"{single.app_cpu_ms:.2f} -> {number.app_cpu_ms:.2f} ms: per extra digit {extra[0]:.1f} ms, "
              f"{extra[1]:.2f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every run; figures become ranges")
    parser.add_argument("--close", action="store_true", help="also run with a new connection per request")
    parser.add_argument("--nginx", action="store_true", help="also run through nginx (deploy/nginx)")
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY (default: gunicorn.conf.py's)")
    parser.add_argument("--worker-class",
                        help="GUNICORN_WORKER_CLASS, e.g. sync or gthread (default: gunicorn.conf.py's WarmSyncWorker)")
    parser.add_argument("--threads", type=int, help="GUNICORN_THREADS, for gthread workers")
    args = parser.parse_args()
    wrk = require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        work = Path(folder)
        scripts = wrk_scripts(work)
        server = start(args, work)
        try:
            workers = len(server.worker_pids())
            print(f"make run: gunicorn, {workers} {args.worker_class or 'configured'} workers"
                  f"{f' × {args.threads} threads' if args.threads else ''}; wrk runs of {args.seconds:g} s; "
                  f"a 280×280 PNG; CPU from /proc")
            routes = [("direct", server.port)] + ([("nginx", server.nginx_port)] if args.nginx else [])
            for endpoint in ENDPOINTS:  # every worker loads the model and connects before anything counts
                load(server, server.port, endpoint, 2 * workers, 5, scripts[True], wrk)
            for route, port in routes:
                for keep_alive in (True, False) if args.close else (True,):
                    script = scripts[keep_alive]
                    rounds = [[*(load(server, port, endpoint, 1, args.seconds, script, wrk) for endpoint in ENDPOINTS),
                               *(run for concurrency in CONCURRENCY[1:]
                                 for run in in_turns(server, port, concurrency, args.seconds, script, wrk))]
                              for _ in range(args.rounds)]
                    report(f"{route}, {'keep-alive' if keep_alive else 'a new connection per request'}:", rounds)
            report_digits([load(server, server.port, endpoint, 1, args.seconds, scripts[True], wrk)
                           for endpoint in ENDPOINTS],
                          [load(server, server.port, endpoint, 1, args.seconds, number_script(work), wrk)
                           for endpoint in ENDPOINTS])
        finally:
            server.stop()
            drop_keyspace()


if __name__ == "__main__":
    main()
