"""What the long operator commands share: a checkpoint to resume from, and a progress bar."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm


class ResumableCommand(BaseCommand):
    """``--checkpoint FILE`` (``DJANGO_VAR_DIR/<checkpoint_name>.checkpoint`` by default), which an
    interrupted run resumes from, and a progress bar on stderr when that is a terminal."""

    checkpoint_name: str

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", type=Path, default=settings.VAR_DIR / f"{self.checkpoint_name}.checkpoint",
                            help="file holding the progress, to resume from (default: %(default)s)")

    def progress(self, **options) -> tqdm:
        return tqdm(file=self.stderr, disable=None, **options)
