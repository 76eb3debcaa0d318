"""Making API tokens; the admin and ``manage.py create_api_token`` both come here. Revoking one is
deleting it (the admin's delete)."""

from datetime import timedelta

from django.conf import settings

from .models import ApiToken


def token_create(*, user, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``, valid ``days`` (default ``API_TOKEN_DAYS``). The key is returned here
    only: the database keeps its SHA-512 digest."""
    days = settings.NUMBERFIGURE_API_TOKEN_DAYS if days is None else days
    return ApiToken.objects.create(user=user, name=name, expiry=timedelta(days=days))
