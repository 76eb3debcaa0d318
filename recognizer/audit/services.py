"""Recording an action: one JSON line on the ``numberfigure.audit`` logger and one row for the admin."""

import json
import logging

from ..web.addresses import UNKNOWN, client_address
from .models import AuditEntry

audit_log = logging.getLogger("numberfigure.audit")


def audit_record(*, action: str, target: str = "", change: dict | None = None, request=None,
                 actor: str = "") -> AuditEntry:
    """Record that ``request``'s user (or ``actor``, outside a request) did ``action`` on ``target``.

    Called by the views and commands that act, after the action succeeded."""
    request = getattr(request, "_request", request)  # DRF's request wraps Django's
    address = client_address(request) if request is not None else UNKNOWN
    entry = AuditEntry.objects.create(
        actor=actor or request.user.get_username(), client=None if address == UNKNOWN else address,
        action=action, target=target, change=change or {})
    audit_log.info(json.dumps({
        "at": entry.at.isoformat(), "actor": entry.actor, "client": entry.client, "action": action,
        "target": target, "change": entry.change, "request_id": getattr(request, "request_id", None),
    }))
    return entry
