"""Faults of a three-node cluster (replication factor 3, QUORUM) under load."""

import json
import threading
import time

import pytest
from cassandra import ConsistencyLevel
from helpers.faults import KEYSPACE, fault, lost, report, rows_of, run_load, wait_for

pytestmark = pytest.mark.long_fault


def during(load, marks) -> list:
    return [r for r in load.results if marks["start"] <= r.sent_at <= marks["end"]]


def test_one_node_killed_under_load(cluster, server, pngs):
    """SIGKILL of one node: QUORUM still holds with two, so no 5xx once the driver marks it down
    (any burst before that is reported); after it comes back every row reads at QUORUM."""
    app = server(cluster, workers=2)
    crash = fault(cluster, after=5, lasting=15, start="kill", end="start", node=3)
    load = run_load(app, pngs, count=1400, rate=40, during=crash)
    missing = lost(cluster, load)
    failed = [r for r in load.results if not 200 <= r.status < 300]
    summary = report("cluster_node_killed", load, lost=len(missing),
                     failed_at_seconds=[round(r.sent_at, 2) for r in failed][:20],
                     pending_202=sum(r.status == 202 for r in load.results),
                     worst_while_down_seconds=round(max(r.seconds for r in during(load, crash.marks)), 3))
    assert "5xx" not in summary and "no answer" not in summary, summary
    assert missing == [], summary
    assert len(rows_of(cluster, load.accepted(), ConsistencyLevel.QUORUM)) == len(load.accepted())


def test_one_node_paused_for_20_s(cluster, server, pngs):
    """SIGSTOP of one node for 20 s (connections open, nothing answered): no request slower than 2 s,
    because idempotent writes are sent to a second replica after 0.25 s; nothing lost."""
    app = server(cluster, workers=2)
    hang = fault(cluster, after=5, lasting=20, start="pause", end="resume", node=2)
    load = run_load(app, pngs, count=1200, rate=40, during=hang)
    missing = lost(cluster, load)
    summary = report("cluster_node_paused", load, lost=len(missing),
                     slower_than_2s=sum(r.seconds > 2 for r in load.results),
                     pending_202=sum(r.status == 202 for r in load.results),
                     worst_while_paused_seconds=round(max(r.seconds for r in during(load, hang.marks)), 3))
    assert summary.get("2xx") == 1200 and missing == [], summary
    assert summary["worst_seconds"] < 2, summary


def test_every_node_down_for_30_s(cluster, server, pngs):
    """All three nodes stopped for 30 s, then started: only 2xx (the outbox's 202) meanwhile, never a
    500; normal 201 answers again within 10 s of the nodes being back, and the outbox drains."""
    app = server(cluster, workers=2)
    blackout = fault(cluster, after=3, lasting=30, start="stop", end="start")
    load = run_load(app, pngs, count=2200, rate=20, during=blackout)
    after_up = [r for r in load.results if r.sent_at >= blackout.marks["end"]]
    first_normal = next((r.sent_at - blackout.marks["end"] for r in after_up if r.status == 201), None)
    drained = wait_for(lambda: json.loads(app.request("GET", "/healthz")[1])["outbox"]["depth"] == 0, 60)
    missing = lost(cluster, load)
    summary = report("cluster_all_down", load, lost=len(missing),
                     pending_202=sum(r.status == 202 for r in load.results),
                     worst_while_down_seconds=round(max(r.seconds for r in during(load, blackout.marks)), 3),
                     normal_again_after_seconds=first_normal, drained_after_seconds=round(drained, 1))
    assert summary.get("2xx") == 2200, summary
    assert first_normal is not None and first_normal <= 10, summary
    assert missing == [], summary


CHANGE_STREAM = """
import json, random, threading, time
from collections import Counter
from recognizer.errors import PredictionChanged, PredictionNotFound
from recognizer.selectors import prediction_get
from recognizer.services import prediction_correct, prediction_delete, prediction_store
from recognizer.storage import stats

made = [prediction_store(source=("draw", "api")[n % 2], filename=None, content_type="image/png", image=b"i",
                         input_png=b"p", probabilities=[0.1] * (n % 10) + [0.55] + [0.05] * (9 - n % 10),
                         model_version="v", latency_ms=1.0) for n in range(40)]
print("STORED", flush=True)
outcomes, lock, deadline = Counter(), threading.Lock(), time.monotonic() + SECONDS

def changes(seed):
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        current = prediction_get(prediction_id=rng.choice(made).id)
        if current is None:
            continue
        try:
            if rng.random() < 0.1:
                prediction_delete(prediction=current)
                outcome = "deleted"
            else:
                prediction_correct(prediction=current, label=rng.choice([None, 1, 2, 3]), user=f"t{seed}")
                outcome = "corrected"
        except (PredictionChanged, PredictionNotFound) as refused:
            outcome = type(refused).__name__
        except Exception as error:
            outcome = f"error {type(error).__name__}: {error}"
        with lock:
            outcomes[outcome] += 1

threads = [threading.Thread(target=changes, args=(seed,)) for seed in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
stats.flush()
print("OUTCOMES", json.dumps(outcomes))
"""


def test_a_coordinator_paused_mid_transaction_under_corrections_and_deletes(cluster, server, store_checker):
    """Node 2 paused again and again (0.4 s plus the time scripts/cassandra takes) while 4 threads
    correct and delete: the driver would send a transaction coordinated by it to a second replica
    after 0.05 s if it could (a speculative send whose "not applied" then answers for the first
    copy's win). Afterwards every index entry and every stats total matches the rows."""
    app = server(cluster, workers=1)
    app.env["CASSANDRA_SPECULATIVE_DELAY"] = "0.05"
    seconds = 24
    pauses = []

    def pause_node_2() -> None:
        time.sleep(4)  # the predictions are stored first
        while (elapsed := time.monotonic() - started) < seconds:
            cluster.run("pause", 2)
            time.sleep(0.4)
            cluster.run("resume", 2)
            pauses.append(round(elapsed, 1))
            time.sleep(1.1)

    started = time.monotonic()
    pauser = threading.Thread(target=pause_node_2)
    pauser.start()
    try:
        output = app.manage("shell", "-c", CHANGE_STREAM.replace("SECONDS", str(seconds)))
    finally:
        pauser.join()
    outcomes = json.loads(output.split("OUTCOMES", 1)[1])
    assert not any(outcome.startswith("error") for outcome in outcomes), outcomes
    assert outcomes.get("corrected", 0) > 30 and outcomes.get("deleted", 0) > 2 and len(pauses) >= 4, outcomes
    session = cluster.session()
    try:
        rows = store_checker(session, KEYSPACE)
    finally:
        session.cluster.shutdown()
    assert 0 < len(rows) < 40
