"""What the commands that train segmentation's own networks share (``train_verifier``, ``train_strings``):
the MNIST folder, the output file, the options a caller may set, and the file with its summary beside it."""

from pathlib import Path
from types import ModuleType

from django.core.management.base import BaseCommand, CommandError

from recognizer.ml.export import save_with_summary
from recognizer.ml.mnist import MnistError, find_data_dir


class SegmentationModelCommand(BaseCommand):
    """Trains ``module.train(data_dir, module.Options(...))`` and writes its LiteRT file to ``--out``."""

    module: ModuleType  # with Options (a dataclass), train(data_dir, options) -> export.Trained
    default_out: Path
    options: tuple[str, ...]  # the fields of module.Options a caller may set, as --dashed-names
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        defaults = self.module.Options()
        parser.add_argument("--data", help="MNIST folder (default: $MNIST_DIR, then ../shared/mnist)")
        parser.add_argument("--out", type=Path, default=self.default_out, help=f"default: {self.default_out}")
        for name in self.options:
            parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))

    def handle(self, *args, **options) -> None:
        try:
            trained = self.module.train(find_data_dir(options["data"]), self.module.Options(**{
                name: options[name] for name in self.options}))
        except MnistError as exc:
            raise CommandError(str(exc)) from exc
        save_with_summary(trained.tflite, trained.summary, options["out"])
        self.stdout.write(self.style.SUCCESS(
            f"Wrote {options['out']} ({len(trained.tflite) / 1e3:.0f} kB): {self.outcome(trained.summary)}"))

    def outcome(self, summary: dict) -> str:
        """What the written network achieved, in a sentence."""
        raise NotImplementedError
