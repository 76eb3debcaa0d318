"""What the fault tests are made of: Cassandra layouts of their own (scripts/cassandra), gunicorn
with the repo's config, paced load that logs every request, and checks of the store.

Every request is logged with its id, status and time (test-artifacts/faults/<test>.log, plus a
summary line), then the store is checked: every accepted prediction present, with its content.
"""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import RoundRobinPolicy
from cassandra.query import dict_factory

import harness.server as harness
from recognizer.storage import ids

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "faults"
STATE = ROOT / ".cassandra-faults"  # gitignored, like .cassandra
KEYSPACE = "faults"


class Nodes:
    """A Cassandra layout of its own, driven through scripts/cassandra."""

    def __init__(self, count: int, name: str, port: int, storage_port: int, jmx_port: int) -> None:
        self.count, self.port = count, port
        self.env = {**os.environ, "CASSANDRA_NODES": str(count), "CASSANDRA_LOCAL_DIR": str(STATE / name),
                    "CASSANDRA_LOCAL_PORT": str(port), "CASSANDRA_LOCAL_STORAGE_PORT": str(storage_port),
                    "CASSANDRA_LOCAL_JMX_PORT": str(jmx_port), "CASSANDRA_HEAP": "512m"}
        self.hosts = [f"127.0.0.{n}" for n in range(1, count + 1)]

    def run(self, command: str, node: int | None = None) -> None:
        args = [str(ROOT / "scripts/cassandra"), command, *(["--node", str(node)] if node else [])]
        subprocess.run(args, env=self.env, check=True, capture_output=True, timeout=300)

    def session(self, consistency=ConsistencyLevel.QUORUM):
        profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), consistency_level=consistency,
                                   row_factory=dict_factory, request_timeout=20)
        cluster = Cluster(self.hosts, port=self.port, execution_profiles={EXEC_PROFILE_DEFAULT: profile})
        return cluster.connect()


class Server(harness.Server):
    """gunicorn with gunicorn.conf.py, talking to ``nodes``, its outbox in a folder of its own; started
    (after making the tables and emptying them) and answering /healthz, 200 or 503, when made."""

    def __init__(self, nodes: Nodes, tmp: Path, *, hosts: str | None = None, workers: int = 2,
                 sync: bool = True) -> None:
        port, self.nodes = harness.free_port(), nodes
        tmp.mkdir(parents=True, exist_ok=True)
        replication = str(min(3, nodes.count))
        self.env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "numberfigure.settings.local", "DJANGO_DEBUG": "false",
            "CASSANDRA_HOSTS": hosts or ",".join(nodes.hosts), "CASSANDRA_PORT": str(nodes.port),
            "CASSANDRA_KEYSPACE": KEYSPACE, "CASSANDRA_REPLICATION_FACTOR": replication,
            "CASSANDRA_CONSISTENCY": "QUORUM", "OUTBOX_DIR": str(tmp / "outbox"), "DJANGO_VAR_DIR": str(tmp),
            "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers),
            "GUNICORN_ACCESS_LOG": "/dev/null", "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
            # The load comes from one address: no throttling (tests/security tests the limits).
            "RATE_LIMIT_PREDICT": "", "RATE_LIMIT_PREVIEW": "", "RATE_LIMIT_API": "",
        }
        if sync:
            self.manage("sync_cassandra", "--verbosity", "0")
            session = nodes.session()
            for table in ("predictions_by_bucket", "original_chunks", "ids_by_filter", "months_by_scope",
                          "buckets_by_month", "prediction_counter", "idempotency_keys", "counted_predictions",
                          "stats_recount", "stats_recount_held", "drift_by_day", "drift_days_by_version"):
                session.execute(f"TRUNCATE {KEYSPACE}.{table}")
            session.cluster.shutdown()
        started = harness.start(harness.GUNICORN, port=port, log=tmp / "gunicorn.log", env=self.env,
                               answers=(200, 503), seconds=90)
        super().__init__(started.process, started.port, started.log)

    def manage(self, *args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True, timeout=600).stdout


@dataclass
class Result:
    request_id: str
    sent_at: float  # seconds since the load began
    status: int  # 0: no HTTP answer (connection reset, refused)
    seconds: float
    body: dict = field(default_factory=dict)


@dataclass
class Load:
    """Requests sent at a steady pace from client threads; every one is logged."""

    results: list[Result] = field(default_factory=list)
    started: float = 0.0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def statuses(self) -> Counter:
        return Counter(self.families(result.status) for result in self.results)

    @staticmethod
    def families(status: int) -> str:
        return f"{status // 100}xx" if status else "no answer"

    def accepted(self) -> list[Result]:
        return [result for result in self.results if 200 <= result.status < 300]


def run_load(server: Server, pngs: list[bytes], *, count: int, rate: float, clients: int = 8,
             during=None) -> Load:
    """POST ``count`` predictions at ``rate``/s while ``during(load)`` runs alongside (the fault)."""
    load, lock, next_index = Load(), threading.Lock(), iter(range(count))
    load.started = time.monotonic()

    def client() -> None:
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            time.sleep(max(0.0, load.started + index / rate - time.monotonic()))
            request_id = f"fault-{index}-{uuid.uuid4().hex[:8]}"
            sent = time.monotonic()
            try:
                status, body = server.request("POST", "/api/predict", pngs[index % len(pngs)],
                                              {"Content-Type": "image/png", "X-Request-ID": request_id})
                parsed = json.loads(body) if body.startswith(b"{") else {}
            except OSError:
                status, parsed = 0, {}
            with lock:
                load.results.append(Result(request_id, sent - load.started, status, time.monotonic() - sent, parsed))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    fault = threading.Thread(target=during, args=(load,)) if during else None
    if fault:
        fault.start()
    for thread in threads:
        thread.join()
    if fault:
        fault.join()
    load.results.sort(key=lambda result: result.sent_at)
    return load


def rows_of(nodes: Nodes, results: list[Result], consistency=ConsistencyLevel.QUORUM) -> dict:
    """The stored row of each accepted prediction (by id), read at ``consistency``."""
    session = nodes.session(consistency)
    try:
        found = {}
        for result in results:
            prediction_id = uuid.UUID(result.body["id"])
            bucket, shard = ids.partition_of(prediction_id)
            row = session.execute(f"SELECT digit, probabilities, source FROM {KEYSPACE}.predictions_by_bucket "
                                  "WHERE bucket = %s AND shard = %s AND id = %s", [bucket, shard, prediction_id]).one()
            if row:
                found[prediction_id] = row
        return found
    finally:
        session.cluster.shutdown()


def counted_total(nodes: Nodes) -> int:
    session = nodes.session()
    try:
        row = session.execute(f"SELECT value FROM {KEYSPACE}.prediction_counter WHERE metric = 'total' "
                              "AND name = 'all'").one()
        return row["value"] if row else 0
    finally:
        session.cluster.shutdown()


def lost(nodes: Nodes, load: Load) -> list[Result]:
    """Accepted predictions that are not stored with the content the client was told."""
    rows = rows_of(nodes, load.accepted())
    return [result for result in load.accepted()
            if (row := rows.get(uuid.UUID(result.body["id"]))) is None or row["digit"] != result.body["digit"]
            or [round(p, 5) for p in row["probabilities"]] != [round(p, 5) for p in result.body["probabilities"]]]


def report(name: str, load: Load, **figures) -> dict:
    """Write every request's line and one summary line to test-artifacts/faults/<name>.log."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = {"test": name, "requests": len(load.results), **dict(load.statuses()),
               "worst_seconds": round(max(result.seconds for result in load.results), 3), **figures}
    with (ARTIFACTS / f"{name}.log").open("w") as out:
        for result in load.results:
            out.write(f"{result.sent_at:8.3f}s {result.request_id} {result.status} {result.seconds * 1000:.1f}ms\n")
        out.write("SUMMARY " + json.dumps(summary) + "\n")
    print("SUMMARY", json.dumps(summary))
    return summary


def wait_for(condition, seconds: float, step: float = 0.5) -> float:
    """Seconds until ``condition()`` held; fails after ``seconds``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(step)
    return time.monotonic() - started


def row_count(nodes: Nodes) -> int:
    session = nodes.session()
    try:
        return session.execute(f"SELECT COUNT(*) FROM {KEYSPACE}.predictions_by_bucket").one()["count"]
    finally:
        session.cluster.shutdown()


def fault(nodes: Nodes, *, after: float, lasting: float, start: str, end: str, node: int | None = None):
    """What run_load runs beside the load: ``start`` (a scripts/cassandra command) on ``node`` (or all)
    ``after`` seconds in, ``end`` ``lasting`` seconds later. Its ``marks`` say when each happened."""
    marks: dict[str, float] = {}

    def inject(load: Load) -> None:
        time.sleep(after)
        nodes.run(start, node)
        marks["start"] = load.elapsed()
        time.sleep(max(0.0, lasting - (load.elapsed() - marks["start"])))
        nodes.run(end, node)
        marks["end"] = load.elapsed()

    inject.marks = marks
    return inject
