import datetime as dt
import time

from cassandra.util import min_uuid_from_time
from django.core.management.base import BaseCommand

from recognizer.review.scoring import WHOLE, Part, score_next


class Command(BaseCommand):
    help = ("Score stored predictions by how likely the model got them wrong, which orders the review "
            "queue (/review). Run it beside the servers with --follow; it continues where it stopped.")

    def add_arguments(self, parser):
        parser.add_argument("--follow", action="store_true", help="keep scoring new predictions as they come")
        parser.add_argument("--since", type=dt.date.fromisoformat,
                            help="start again from this UTC day (YYYY-MM-DD), e.g. after an outbox replay")
        parser.add_argument("--part", type=Part.parse, default=WHOLE, metavar="K/N",
                            help="score only part K of N processes run side by side (by shard; default 1/1)")
        parser.add_argument("--pause", type=float, default=2.0, help="seconds to wait when nothing is new")

    def handle(self, *args, follow: bool, since: dt.date | None, part: Part, pause: float, **options):
        after = min_uuid_from_time(dt.datetime.combine(since, dt.time(), dt.UTC).timestamp()) if since else None
        read = 0
        while True:
            batch = score_next(after=after, part=part)
            after, read = None, read + batch
            if not batch:
                if not follow:
                    break
                time.sleep(pause)
        self.stdout.write(self.style.SUCCESS(f"Read {read} predictions; the unlabelled ones are scored."))
