from django.db import models


class AuditEntry(models.Model):
    """One action of a person on the data: kept in SQL with the users, so the admin can show it."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150, help_text="The user name (the user may be deleted since).")
    client = models.GenericIPAddressField(null=True, help_text="The address the request came from.")
    action = models.CharField(max_length=40, db_index=True)
    target = models.CharField(max_length=200, blank=True, help_text="What the action was on: a prediction's id, a "
                                                                      "token's name and owner, an export's filters.")
    change = models.JSONField(default=dict, blank=True, help_text="What changed, e.g. the label before and after.")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target}"
