from django.contrib.admin.apps import AdminConfig


class NumberfigureAdminConfig(AdminConfig):
    """The admin, with the site that lists the prediction history (``recognizer.admin``)."""

    default_site = "recognizer.admin.NumberfigureAdminSite"
