from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from recognizer.ml import versions


def figures(card: dict) -> str:
    """A version's figures on one line: MNIST test, non-MNIST and, after a retraining, labelled."""
    parts = [f"MNIST {card['test_accuracy_litert']:.2%}" if "test_accuracy_litert" in card else "MNIST –",
             f"non-MNIST {card['non_mnist']['accuracy_litert']:.2%}" if "non_mnist" in card else "non-MNIST –"]
    if labelled := card.get("retrain", {}).get("challenger", {}).get("labelled"):
        parts.append(f"labelled {labelled:.2%}")
    return ", ".join(parts)


class Command(BaseCommand):
    help = "List the kept model versions with their figures; * marks the one every worker serves."

    def handle(self, *args, **options):
        for card in versions.listing(Path(settings.NUMBERFIGURE_MODEL_DIR)):
            mark = "*" if card["serving"] else " "
            self.stdout.write(f"{mark} {card['version']}  {card.get('created_at', '')}  {figures(card)}  "
                              f"({card.get('source', '')})")
