"""What the review page reads besides the queue: how many predictions are left in it."""

from ..models import StatCounter
from ..selectors import Filters
from ..storage import cql, stats
from ..storage.stats import Stat


def review_left(*, filters: Filters) -> int:
    """Queued predictions of the view (dates aside), from the stats counters (lag: a second)."""
    stats.flush()
    rows = cql.run(cql.select(StatCounter, "metric = ? AND name = ?", [Stat.REVIEW.value, filters.key],
                              columns="value"))
    return max(0, rows[0]["value"]) if rows else 0
