from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from recognizer.storage.copy import copy_all, legacy_days


class Command(BaseCommand):
    help = ("Copy predictions from the first (one partition per day) layout into the current one. "
            "Resumable and safe to run again: each row keeps its id and is written at its own time.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", type=Path, default=settings.VAR_DIR / "copy_predictions.checkpoint",
                            help="file holding the last copied id (default: %(default)s)")

    def handle(self, *args, checkpoint: Path, **options):
        with tqdm(total=len(legacy_days()), unit="day", file=self.stderr, disable=None) as bar:
            def on_day(copied: int) -> None:
                bar.set_postfix(rows=copied)
                bar.update()

            copied = copy_all(checkpoint=checkpoint, on_day=on_day)
        self.stdout.write(self.style.SUCCESS(f"Copied {copied} predictions (checkpoint: {checkpoint})"))
