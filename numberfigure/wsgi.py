"""WSGI entry point (gunicorn numberfigure.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numberfigure.settings.production")
application = get_wsgi_application()
