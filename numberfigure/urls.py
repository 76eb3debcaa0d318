from django.contrib import admin
from django.urls import include, path

from .observability import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("", include("recognizer.urls")),
]

# Addresses nothing answers, and requests Django refuses before a view: JSON on the API, a page elsewhere
# (recognizer.web.problems says what).
handler400 = "recognizer.web.middleware.bad_request"
handler404 = "recognizer.web.middleware.not_found"
