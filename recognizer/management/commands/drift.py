"""`manage.py drift`: the drift figures of a range of days, as a table."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from recognizer.drift_report import table
from recognizer.selectors import drift_days


class Command(BaseCommand):
    help = ("Print, per UTC day and model version, the predictions' count, unsure share, PSI of the confidence "
            "histogram and of the digits against the reference (DRIFT_REFERENCE), labelled accuracy and status.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=dt.date.fromisoformat, help="first day, YYYY-MM-DD (default: 6 days ago)")
        parser.add_argument("--until", type=dt.date.fromisoformat, help="last day, YYYY-MM-DD (default: today, UTC)")

    def handle(self, *args, since=None, until=None, **options) -> None:
        until = until or dt.datetime.now(dt.UTC).date()
        since = since or until - dt.timedelta(days=6)
        if since > until or (until - since).days > 366:
            raise CommandError("--since must be on or before --until, at most 366 days apart")
        self.stdout.write(table(drift_days(since=since, until=until)))
