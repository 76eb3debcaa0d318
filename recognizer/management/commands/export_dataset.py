"""`manage.py export_dataset DIR`: users' corrections as an MNIST-format dataset, for training elsewhere."""

from pathlib import Path

from django.core.management.base import BaseCommand

from recognizer.audit.services import audit_record
from recognizer.exports import export_dataset


class Command(BaseCommand):
    help = "Write corrected predictions as an MNIST-format dataset (IDX files plus PNGs) into DIR."

    def add_arguments(self, parser):
        parser.add_argument("dir", type=Path)
        parser.add_argument("--confident-above", type=float, metavar="P",
                            help="also include uncorrected predictions with confidence ≥ P, labelled as predicted")

    def handle(self, *args, dir: Path, confident_above: float | None, **options):
        count = export_dataset(dir, confident_above=confident_above)
        audit_record(action="dataset.export", target=str(dir), change={"images": count,
                                                                      "confident_above": confident_above})
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} labelled images to {dir}"))
