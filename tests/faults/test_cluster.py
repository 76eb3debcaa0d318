"""Faults of a three-node cluster (replication factor 3, QUORUM) under load."""

import json
import time

import pytest
from cassandra import ConsistencyLevel
from fault_harness import lost, report, run_load, stored_rows, wait_for

pytestmark = pytest.mark.long_fault


def test_one_node_killed_under_load(cluster, server, pngs):
    """SIGKILL of one node: QUORUM still holds with two, so no 5xx once the driver marks it down
    (any burst before that is reported); after it comes back every row reads at QUORUM."""
    app = server(cluster, workers=2)
    marks = {}

    def crash(load):
        time.sleep(5)
        cluster.run("kill", node=3)
        marks["killed"] = load.elapsed()
        time.sleep(15)
        cluster.run("start", node=3)
        marks["back"] = load.elapsed()

    load = run_load(app, pngs, count=1400, rate=40, during=crash)
    missing = lost(cluster, load)
    failed = [r for r in load.results if not 200 <= r.status < 300]
    during = [r for r in load.results if marks["killed"] <= r.sent_at <= marks["back"]]
    summary = report("cluster_node_killed", load, lost=len(missing),
                     failed_at_seconds=[round(r.sent_at, 2) for r in failed][:20],
                     worst_while_down_seconds=round(max(r.seconds for r in during), 3))
    assert "5xx" not in summary and "no answer" not in summary, summary
    assert missing == [], summary
    assert len(stored_rows(cluster, load.accepted(), ConsistencyLevel.QUORUM)) == len(load.accepted())


def test_one_node_paused_for_20_s(cluster, server, pngs):
    """SIGSTOP of one node for 20 s (connections open, nothing answered): no request slower than 2 s,
    because idempotent writes are sent to a second replica after 0.25 s; nothing lost."""
    app = server(cluster, workers=2)

    def hang(load):
        time.sleep(5)
        cluster.run("pause", node=2)
        time.sleep(20)
        cluster.run("resume", node=2)

    load = run_load(app, pngs, count=1200, rate=40, during=hang)
    missing = lost(cluster, load)
    summary = report("cluster_node_paused", load, lost=len(missing),
                     slower_than_2s=sum(r.seconds > 2 for r in load.results),
                     pending_202=sum(r.status == 202 for r in load.results))
    assert summary.get("2xx") == 1200 and missing == [], summary
    assert summary["worst_seconds"] < 2, summary


def test_every_node_down_for_30_s(cluster, server, pngs):
    """All three nodes stopped for 30 s, then started: only 2xx (the outbox's 202) meanwhile, never a
    500; normal 201 answers again within 10 s of the nodes being back, and the outbox drains."""
    app = server(cluster, workers=2)
    marks = {}

    def blackout(load):
        time.sleep(3)
        cluster.run("stop")
        marks["down"] = load.elapsed()
        time.sleep(30)
        cluster.run("start")
        marks["up"] = load.elapsed()

    load = run_load(app, pngs, count=2200, rate=20, during=blackout)
    after_up = [r for r in load.results if r.sent_at >= marks["up"]]
    first_normal = next((r.sent_at - marks["up"] for r in after_up if r.status == 201), None)
    drained = wait_for(lambda: json.loads(app.request("GET", "/healthz")[1])["outbox"]["depth"] == 0, 60)
    missing = lost(cluster, load)
    summary = report("cluster_all_down", load, lost=len(missing),
                     pending_202=sum(r.status == 202 for r in load.results),
                     normal_again_after_seconds=first_normal, drained_after_seconds=round(drained, 1))
    assert summary.get("2xx") == 2200, summary
    assert first_normal is not None and first_normal <= 10, summary
    assert missing == [], summary
