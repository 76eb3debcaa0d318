"""Faults of the only node, and of the web workers, under load."""

import json
import os
import signal
import time
from pathlib import Path

import pytest
from helpers.faults import STATE, counted_total, fault, lost, report, row_count, run_load, wait_for


def outbox_empty(server) -> bool:
    return json.loads(server.request("GET", "/healthz")[1])["outbox"]["depth"] == 0


@pytest.mark.long_fault
def test_the_only_node_stopped_for_30_s_under_2000_predictions(single, server, pngs):
    """Every request gets a 2xx (202 from the outbox while the node is down); afterwards all 2,000
    rows are stored with the content each client was told, and the stats count exactly them."""
    app = server(single, workers=2)
    outage = fault(single, after=5, lasting=30, start="stop", end="start")
    load = run_load(app, pngs, count=2000, rate=40, during=outage)
    drained_in = wait_for(lambda: outbox_empty(app), 60)
    missing = lost(single, load)
    time.sleep(2.5)  # the workers' stats flush (once a second)
    total = counted_total(single)
    during = [r for r in load.results if outage.marks["start"] <= r.sent_at <= outage.marks["end"]]
    summary = report("single_node_stopped", load, lost=len(missing), counted=total,
                     during_outage=len(during), pending_202=sum(r.status == 202 for r in load.results),
                     worst_during_outage_seconds=round(max(r.seconds for r in during), 3),
                     drained_after_seconds=round(drained_in, 1))
    assert summary.get("2xx") == 2000, summary
    assert missing == [] and total == 2000, summary


@pytest.mark.long_fault
def test_workers_killed_every_few_seconds_lose_no_acknowledged_prediction(single, server, pngs):
    """kill -9 of a gunicorn worker drops its connections (no answer: the client retries), but
    every prediction that was answered is stored; the stats drift by at most the killed workers'
    last second, and recount_stats puts them right."""
    app = server(single, workers=3)

    def killer(load):
        while load.elapsed() < 24:
            time.sleep(3)
            os.kill(app.workers()[0], signal.SIGKILL)

    load = run_load(app, pngs, count=1200, rate=40, during=killer)
    missing = lost(single, load)
    time.sleep(2.5)
    # A worker killed after storing but before answering leaves a row nobody was told about.
    rows, before = row_count(single), counted_total(single)
    app.manage("recount_stats")
    after = counted_total(single)
    summary = report("workers_killed", load, lost=len(missing), rows=rows, counted_before_recount=before,
                     counted_after_recount=after)
    assert "5xx" not in summary, summary
    assert missing == [] and rows >= len(load.accepted()), summary
    assert abs(rows - before) <= 8 * 40, summary  # at most the killed workers' unflushed second each
    assert after == rows, summary


def test_a_web_process_started_while_cassandra_is_down_recovers_by_itself(single, server, pngs):
    """Started with the node down: predictions are accepted into the outbox (202) and /healthz says
    degraded, never a 500; once the node is back it serves normally within 10 s, by itself."""
    server(single, workers=1).stop()  # an empty keyspace to start with
    single.run("stop")
    try:
        app = server(single, workers=2, sync=False)
        for png in pngs[:5]:
            status, body = app.request("POST", "/api/predict", png, {"Content-Type": "image/png"})
            assert status == 202 and json.loads(body)["stored"] == "pending"
        health = app.request("GET", "/healthz")
        assert health[0] == 200 and json.loads(health[1])["status"] == "degraded"
    finally:
        single.run("start")
    recovered = wait_for(lambda: app.request("POST", "/api/predict", pngs[0], {"Content-Type": "image/png"})[0]
                         == 201, 10)
    wait_for(lambda: outbox_empty(app), 20)
    print("SUMMARY", json.dumps({"test": "started_while_down", "recovered_after_node_up_seconds": round(recovered, 1)}))


def test_a_contact_point_whose_name_does_not_resolve_is_degraded_not_an_error(single, server, pngs):
    """As compose's ``cassandra`` host name while that container is down: 202 and degraded, no 500."""
    app = server(single, hosts="cassandra-not-up-yet.invalid", sync=False)
    statuses = [app.request("POST", "/api/predict", png, {"Content-Type": "image/png"})[0] for png in pngs[:5]]
    health = app.request("GET", "/healthz")
    history = app.request("GET", "/api/predictions/00000000-0000-1000-8000-000000000000")
    assert statuses == [202] * 5
    assert health[0] == 200 and json.loads(health[1])["status"] == "degraded"
    assert history[0] == 503 and "not reachable" in json.loads(history[1])["error"]


def test_every_thread_of_a_local_node_naps_with_a_coarser_timer_slack(single):
    """scripts/cassandra starts the node with a timer slack of 150 µs (CASSANDRA_TIMER_SLACK_US) on
    every thread, those it starts later included: its idle pool workers' 10 µs naps then wake the
    CPU less often (docs/performance.md)."""
    pid = int((STATE / "single" / "cassandra.pid").read_text())
    threads = [task.name for task in Path(f"/proc/{pid}/task").iterdir()]
    slacks = {int(Path(f"/proc/{tid}/timerslack_ns").read_text()) for tid in threads}
    assert len(threads) > 20 and slacks == {150_000}, slacks
