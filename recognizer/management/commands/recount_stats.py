from pathlib import Path

from recognizer.management.resumable import ResumableCommand
from recognizer.storage.recount import recount


class Command(ResumableCommand):
    help = ("Rebuild the stats totals from the stored predictions. Resumable: an interrupted run goes "
            "on from its checkpoint. Run it when corrections are quiet.")
    checkpoint_name = "recount_stats"

    def handle(self, *args, checkpoint: Path, **options):
        with self.progress(unit="prediction") as bar:
            change = recount(checkpoint=checkpoint, on_page=bar.update)
        moved = {f"{metric}:{name}": amount for (metric, name), amount in sorted(change.items())}
        self.stdout.write(self.style.SUCCESS(f"Counted {bar.n} predictions; counters moved: {moved or 'none'}"))
