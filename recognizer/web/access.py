"""Who may do what, for pages and API alike: reading the history, and changing predictions."""

from django.conf import settings


def can_read_history(user) -> bool:
    """The history, stats and exports: everyone with ``HISTORY_PUBLIC``, else logged-in users."""
    return settings.NUMBERFIGURE_HISTORY_PUBLIC or bool(user and user.is_authenticated)


def can_change(user) -> bool:
    """Correcting and deleting predictions: active staff only (as the admin site itself)."""
    return bool(user and user.is_active and user.is_staff)
