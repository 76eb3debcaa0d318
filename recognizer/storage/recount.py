"""Rebuild the stats totals from the rows: ``manage.py recount_stats``.

The totals drift when a worker is killed with changes not yet written (at most its last second),
or when a counter write timed out (dropped rather than risk counting twice). A run first *holds*
the counters (``stats.held_by``): within a flush interval every process keeps its stats changes in
memory and records the ids of the predictions they concern, so the counters stand still while
they are read; a new prediction's id is recorded before its row is written. It then walks every
row, newest first, a page at a time, adding up what each contributes (``stats.contribution``)
except the rows whose changes are held, moves each counter by the difference between that sum
and its value, and lets go: the held changes are written. So it is exact under a stream of new
predictions and outbox replays. A correction or a delete while it runs, or a retried
``Idempotency-Key`` request whose predictions were counted before, is what it can miss: run it
when those are quiet.
The running sum and the last row seen are kept in a checkpoint file after every page, so an
interrupted recount resumes.
"""

import datetime as dt
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ..models import StatCounter
from . import cql, drift, paging, stats
from .stats import Stat

PAGE = 500
HOLD_SETTLE_SECONDS = 3 * stats.FLUSH_SECONDS  # every process has seen the hold and written its last flush


def recount(*, checkpoint: Path, on_page: Callable[[int], None] = lambda rows: None,
            pages: int | None = None) -> Counter | None:
    """Walk the rows (at most ``pages`` pages this run) and correct the counters once the walk is
    done; returns the change applied, or None when stopped early (resume by running it again)."""
    fresh = {"newest": None, "before": None, "totals": []}
    state = json.loads(checkpoint.read_text()) if checkpoint.exists() else fresh
    totals = Counter({(Stat(metric), name): amount for metric, name, amount in state["totals"]})
    before = uuid.UUID(state["before"]) if state["before"] else None
    newest = uuid.UUID(state["newest"]) if state["newest"] else None
    recount_id = uuid.uuid4()

    def walked(page) -> None:
        held = stats.held_ids(recount_id)  # read after the page: a held row's id is recorded before it is written
        for prediction in page:
            if prediction.id not in held:
                totals.update(stats.contribution(prediction))

    stats.flush()  # this process's changes made before the run are counted, not held (a delete's would be lost)
    stats.hold(recount_id)
    try:
        time.sleep(HOLD_SETTLE_SECONDS)
        counted = current_totals()  # standing still until the hold ends
        walked_pages = 0
        while page := paging.page(paging.View(), cursor=before, limit=PAGE):
            newest = newest or page[0].id
            walked(page)
            before = page[-1].id
            checkpoint.write_text(json.dumps({"newest": str(newest), "before": str(before), "totals": [
                [str(metric), name, amount] for (metric, name), amount in totals.items()]}))
            on_page(len(page))
            stats.hold(recount_id)  # renewed
            walked_pages += 1
            if pages is not None and walked_pages >= pages:
                return None
        after = newest  # rows stored since the walk began
        while after is not None and (page := paging.page(paging.View(newer=True), cursor=after, limit=PAGE)):
            walked(page)
            after = page[-1].id
        if known := {drift.parse(name)[1] for family, name in totals if family == Stat.DRIFT}:
            counted.update(current_drift_counts(counted, known))
        change = stats.difference(+totals, counted)
        write_in_parts(change)
    finally:
        stats.release()
    checkpoint.unlink(missing_ok=True)
    return change


def write_in_parts(change: Counter) -> None:
    """Move the counters by ``change``: the totals in one batch, the drift counters in one per day
    (a recount may correct years of them)."""
    drifted = Counter({name: amount for (family, name), amount in change.items() if family == Stat.DRIFT})
    totals = Counter({key: amount for key, amount in change.items() if key[0] != Stat.DRIFT})
    for part in ([totals] if totals else []) + [Counter({(Stat.DRIFT, name): amount for name, amount in day.items()})
                                                   for day in drift.by_day(drifted)]:
        stats.write(part)


def current_drift_counts(counted: Counter, versions: set[str]) -> Counter:
    """The day counts of ``versions`` that ``counted`` lacks (their other counters may be lost)."""
    days = sorted(dt.date.fromisoformat(name) for family, name in counted if family == Stat.DAY)
    return Counter({(Stat.DRIFT, name): value for name, value in drift.read(days, versions=versions).items()
                    if (Stat.DRIFT, name) not in counted})


def current_totals() -> Counter:
    """Every counter's value now: (Stat, name) -> value (the drift counters of every day with predictions)."""
    families = [family for family in Stat if family != Stat.DRIFT]
    statements = [cql.select(StatCounter, "metric = ?", [family], columns="name, value") for family in families]
    totals = Counter({
        (family, row["name"]): row["value"]
        for family, rows in zip(families, cql.run_concurrently(statements), strict=True)
        for row in rows
    })
    days = sorted(dt.date.fromisoformat(name) for family, name in totals if family == Stat.DAY)
    totals.update({(Stat.DRIFT, name): value for name, value in drift.read(days).items()})
    return totals
