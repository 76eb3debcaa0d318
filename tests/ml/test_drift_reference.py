"""manage.py drift_reference: a card without the drift reference gets the one the shipped card holds."""

import io
import json
import shutil

from django.conf import settings
from django.core.management import call_command


def test_the_reference_is_written_into_the_card_and_reproduces_the_shipped_one(tmp_path):
    shipped = json.loads((settings.NUMBERFIGURE_MODEL_DIR / "card.json").read_text())
    shutil.copy(settings.NUMBERFIGURE_MODEL_DIR / "model.tflite", tmp_path)
    (tmp_path / "card.json").write_text(json.dumps({k: v for k, v in shipped.items() if k != "drift_reference"}))

    call_command("drift_reference", model_dir=str(tmp_path), stdout=io.StringIO())

    written = json.loads((tmp_path / "card.json").read_text())
    assert written["drift_reference"] == shipped["drift_reference"]
    assert written["version"] == shipped["version"] and written["files"] == shipped["files"]  # the rest kept
