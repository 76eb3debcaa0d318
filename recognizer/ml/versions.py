"""Model versions: every model kept in its own folder, one of them served, switched atomically.

``MODEL_DIR/versions/<version>/`` holds each model's files as it was made (its card names its
version). What serves is what lies in ``MODEL_DIR`` itself: promoting a version copies its files
there through ``install`` (card last), which every running worker's hot reload picks up within a
second (``runtime.get_classifier``). ``versions/switches.jsonl`` records each switch (when, to
which version, from which, why), so ``rollback`` knows what served before. Imports no TensorFlow.
"""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from . import install
from .runtime import CARD_FILE, Classifier

VERSIONS, SWITCHES = "versions", "switches.jsonl"


class UnknownVersion(ValueError):
    """No such model version, or none to go back to."""


def _card(folder: Path) -> dict | None:
    path = folder / CARD_FILE
    return json.loads(path.read_text()) if path.exists() else None


def serving(model_dir: Path) -> str | None:
    card = _card(model_dir)
    return card["version"] if card else None


def keep(model_dir: Path) -> str | None:
    """Keep a copy of the model serving now among the versions (once); its version."""
    version = serving(model_dir)
    if version is not None and not (model_dir / VERSIONS / version).exists():
        add(model_dir, model_dir)
    return version


def add(model_dir: Path, folder: Path) -> str:
    """Keep the model made in ``folder`` as a version (not served); its version."""
    card = _card(folder)
    Classifier.from_dir(folder)  # a model, and the one its card names
    target = model_dir / VERSIONS / card["version"]
    staged = target.with_name(f".incoming-{card['version']}")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for name in install.ARTIFACTS:
        if (folder / name).exists():
            shutil.copy2(folder / name, staged / name)
    staged.replace(target)
    return card["version"]


def listing(model_dir: Path) -> list[dict]:
    """Every kept version's card, newest first, with ``serving`` set on the one that serves."""
    keep(model_dir)
    now = serving(model_dir)
    cards = [card for folder in (model_dir / VERSIONS).glob("*") if not folder.name.startswith(".")
             if (card := _card(folder))]
    return [{**card, "serving": card["version"] == now}
            for card in sorted(cards, key=lambda card: card.get("created_at", ""), reverse=True)]


def switches(model_dir: Path) -> list[dict]:
    path = model_dir / VERSIONS / SWITCHES
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def promote(model_dir: Path, version: str, *, reason: str) -> str | None:
    """Serve ``version`` in every worker; the version it replaced."""
    previous = keep(model_dir)
    folder = model_dir / VERSIONS / version
    if not _card(folder):
        raise UnknownVersion(f"No model version {version!r} (manage.py models lists them).")
    Classifier.from_dir(folder)  # the kept files are still the model their card names
    with install.staging(model_dir) as staged:
        for name in install.ARTIFACTS:
            if (folder / name).exists():
                shutil.copy2(folder / name, staged / name)
        install.install(staged, model_dir)
    with (model_dir / VERSIONS / SWITCHES).open("a") as log:
        log.write(json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"), "version": version,
                              "previous": previous, "reason": reason}) + "\n")
    return previous


def rollback(model_dir: Path) -> str:
    """Serve again the version that served before the current one; that version."""
    now = serving(model_dir)
    for switch in reversed(switches(model_dir)):
        if switch["version"] == now and switch["previous"] and switch["previous"] != now:
            promote(model_dir, switch["previous"], reason=f"rollback from {now}")
            return switch["previous"]
    raise UnknownVersion(f"Nothing to roll back to: {now} was not switched to from another version.")
