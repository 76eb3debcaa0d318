"""Faults of a three-node cluster (replication factor 3, QUORUM) under load."""

import json

import pytest
from cassandra import ConsistencyLevel
from fault_harness import fault, lost, report, run_load, stored_rows, wait_for

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
    assert len(stored_rows(cluster, load.accepted(), ConsistencyLevel.QUORUM)) == len(load.accepted())


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
