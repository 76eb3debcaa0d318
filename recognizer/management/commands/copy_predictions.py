from pathlib import Path

from recognizer.first_layout.copy import copy_all, legacy_days
from recognizer.management.resumable import ResumableCommand


class Command(ResumableCommand):
    help = ("Copy predictions from the first (one partition per day) layout into the current one. "
            "Resumable and safe to run again: each row keeps its id and is written at its own time.")
    checkpoint_name = "copy_predictions"

    def handle(self, *args, checkpoint: Path, **options):
        with self.progress(total=len(legacy_days()), unit="day") as bar:
            def on_day(copied: int) -> None:
                bar.set_postfix(rows=copied)
                bar.update()

            copied = copy_all(checkpoint=checkpoint, on_day=on_day)
        self.stdout.write(self.style.SUCCESS(f"Copied {copied} predictions (checkpoint: {checkpoint})"))
