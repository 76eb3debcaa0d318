"""Rebuild the stats totals from the rows: ``manage.py recount_stats``.

The totals drift when a worker is killed with changes not yet written (at most its last second),
or when a counter write timed out (dropped rather than risk counting twice). This walks every row,
newest first, a page at a time, adding up what each contributes (``stats.contribution``), then
moves each counter by the difference between that sum and its value. The running sum and the last
row seen are kept in a checkpoint file after every page, so an interrupted recount resumes.
Predictions stored while it runs are read at the end; a correction made meanwhile to a row already
walked is the one change it can miss, so run it when corrections are quiet.
"""

import json
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ..models import StatCounter
from . import cql, history, stats
from .stats import Stat

PAGE = 500


def recount(*, checkpoint: Path, on_page: Callable[[int], None] = lambda rows: None,
            pages: int | None = None) -> Counter | None:
    """Walk the rows (at most ``pages`` pages this run) and correct the counters once the walk is
    done; returns the change applied, or None when stopped early (resume by running it again)."""
    fresh = {"newest": None, "before": None, "totals": []}
    state = json.loads(checkpoint.read_text()) if checkpoint.exists() else fresh
    totals = Counter({(Stat(metric), name): amount for metric, name, amount in state["totals"]})
    before = uuid.UUID(state["before"]) if state["before"] else None
    newest = uuid.UUID(state["newest"]) if state["newest"] else None
    walked = 0
    while page := history.page(history.View(), cursor=before, limit=PAGE):
        newest = newest or page[0].id
        for prediction in page:
            totals.update(stats.contribution(prediction))
        before = page[-1].id
        checkpoint.write_text(json.dumps({"newest": str(newest), "before": str(before), "totals": [
            [str(metric), name, amount] for (metric, name), amount in totals.items()]}))
        on_page(len(page))
        walked += 1
        if pages is not None and walked >= pages:
            return None
    after = newest  # rows stored since the walk began
    while after is not None and (page := history.page(history.View(newer=True), cursor=after, limit=PAGE)):
        for prediction in page:
            totals.update(stats.contribution(prediction))
        after = page[-1].id
    stats.flush()
    change = stats.difference(totals, current_totals())
    if change:
        stats.add(change)
        stats.flush()
    checkpoint.unlink(missing_ok=True)
    return change


def current_totals() -> Counter:
    """Every counter's value now: (Stat, name) -> value."""
    statements = [cql.select(StatCounter, "metric = ?", [family], columns="name, value") for family in Stat]
    return Counter({
        (family, row["name"]): row["value"]
        for family, rows in zip(Stat, cql.run_concurrently(statements), strict=True)
        for row in rows
    })
