"""The admin site, with the prediction history beside users and groups.

django-cassandra-engine models cannot be registered with the admin (they are not SQL models),
so the history, stats and exports are views of their own (``recognizer.pages.history``) that use
the admin's templates, and this site lists them on its index page.
"""

from django.contrib import admin
from django.urls import reverse

from .web.access import can_change
from .web.second_factor import OptionalOTPAdminAuthenticationForm


class NumberfigureAdminSite(admin.AdminSite):
    site_header = "Numberfigure administration"
    site_title = "Numberfigure"
    index_title = "Administration"
    # Staff with a TOTP device give its code after the password (web/second_factor.py).
    login_form = OptionalOTPAdminAuthenticationForm
    login_template = "otp/admin111/login.html"

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label in (None, "recognizer") and can_change(request.user):
            apps.append({
                "name": "Digit recognizer",
                "app_label": "recognizer",
                "app_url": reverse("history"),
                "has_module_perms": True,
                "models": [
                    {"name": "Predictions", "object_name": "Prediction", "admin_url": reverse("history"),
                     "add_url": None, "view_only": True, "perms": {"view": True}},
                    {"name": "Review queue", "object_name": "Review", "admin_url": reverse("review"),
                     "add_url": None, "view_only": True, "perms": {"view": True}},
                    {"name": "Model versions", "object_name": "ModelVersion", "admin_url": reverse("model_versions"),
                     "add_url": None, "view_only": True, "perms": {"view": True}},
                    {"name": "Statistics", "object_name": "Stats", "admin_url": reverse("stats"),
                     "add_url": None, "view_only": True, "perms": {"view": True}},
                ],
            })
        return apps
