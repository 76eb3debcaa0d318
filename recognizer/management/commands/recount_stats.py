from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from recognizer.storage.recount import recount


class Command(BaseCommand):
    help = ("Rebuild the stats totals from the stored predictions. Resumable: an interrupted run goes "
            "on from its checkpoint. Run it when corrections are quiet.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", type=Path, default=settings.VAR_DIR / "recount_stats.checkpoint",
                            help="file holding the progress (default: %(default)s)")

    def handle(self, *args, checkpoint: Path, **options):
        with tqdm(unit="prediction", file=self.stderr, disable=None) as bar:
            change = recount(checkpoint=checkpoint, on_page=bar.update)
        moved = {f"{metric}:{name}": amount for (metric, name), amount in sorted(change.items())}
        self.stdout.write(self.style.SUCCESS(f"Counted {bar.n} predictions; counters moved: {moved or 'none'}"))
