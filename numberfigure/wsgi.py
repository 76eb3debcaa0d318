"""WSGI entry point (gunicorn numberfigure.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numberfigure.settings.production")
application = get_wsgi_application()

# Each worker loads the URLconf (with the views, SciPy and the model runtime) and the model as it
# starts, not in its first request, which took ~0.5 s longer; and a missing model stops it there.
get_resolver().resolve("/")
from recognizer.ml.runtime import get_classifier  # noqa: E402 - needs the settings set up above

get_classifier()

# Everything loaded so far lives as long as the worker: freezing it keeps the cyclic garbage collector from
# scanning it again. Its full collections (every ~1,500 predictions) otherwise held a request for ~80 ms.
gc.freeze()
