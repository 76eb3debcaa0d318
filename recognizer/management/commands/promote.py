from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.ml import versions


class Command(BaseCommand):
    help = "Serve another kept model version (manage.py models lists them); every worker switches within a second."

    def add_arguments(self, parser):
        parser.add_argument("version")

    def handle(self, *args, version: str, **options):
        try:
            previous = versions.promote(Path(settings.NUMBERFIGURE_MODEL_DIR), version, reason="manage.py promote")
        except versions.UnknownVersion as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Serving {version} (was {previous})."))
