import datetime as dt
from pathlib import Path

from recognizer.management.resumable import ResumableCommand
from recognizer.storage.repair import ORPHAN_AGE, repair


class Command(ResumableCommand):
    help = ("Put the filter indexes, the history's lists and the originals right against the stored rows: "
            "missing entries written, stale ones removed, deletes finished, orphans older than --orphan-days "
            "removed. Safe under traffic; resumable.")
    checkpoint_name = "repair_indexes"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--orphan-days", type=float, default=ORPHAN_AGE.days,
                            help="remove index entries and originals without a row only when older than this "
                                 "(a creation may still wait in an outbox; default: %(default)s)")

    def handle(self, *args, checkpoint: Path, orphan_days: float, **options):
        walked = 0
        with self.progress(unit="partition") as bar:
            def on_page(walk: str, partitions: int) -> None:
                nonlocal walked
                walked += partitions
                bar.set_description(walk)
                bar.update(partitions)

            fixed = repair(checkpoint=checkpoint, orphan_age=dt.timedelta(days=orphan_days), on_page=on_page)
        self.stdout.write(self.style.SUCCESS(f"Walked {walked} partitions; fixed: {dict(fixed) or 'nothing'}"))
