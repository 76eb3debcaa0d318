from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """knox's token (its SHA-512 digest, the first characters to find it by, an expiry) with a name, so
    that its owner can tell which client holds it when revoking it."""

    name = models.CharField(max_length=100, help_text="Which client or script holds it, e.g. 'label-sync job'.")

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.user}, {self.token_key}…)"
