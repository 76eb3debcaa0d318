"""The model versions page (staff): what each kept model scores, which one serves, how to switch.

Training and switching are commands: this project has no job runner to run a training outside the
web workers, so the page shows them rather than starting them.
"""

from pathlib import Path

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..ml import versions
from .history import _context, staff_only


@require_GET
@staff_only
def model_versions(request):
    model_dir = Path(settings.NUMBERFIGURE_MODEL_DIR)
    return render(request, "recognizer/models.html", _context(
        request, "Model versions", versions=versions.listing(model_dir),
        switches=list(reversed(versions.switches(model_dir)))[:20],
    ))
