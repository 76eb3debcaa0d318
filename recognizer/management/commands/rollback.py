from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.ml import versions


class Command(BaseCommand):
    help = "Serve again the model version that served before the current one."

    def handle(self, *args, **options):
        model_dir = Path(settings.NUMBERFIGURE_MODEL_DIR)
        current = versions.serving(model_dir)
        try:
            version = versions.rollback(model_dir)
        except versions.UnknownVersion as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Serving {version} again (was {current})."))
