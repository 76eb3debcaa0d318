"""Recording an action: one JSON line on the ``numberfigure.audit`` logger and one row for the admin."""

import getpass
import json
import logging

from ..web.addresses import UNKNOWN, client_address
from .models import AuditEntry

audit_log = logging.getLogger("numberfigure.audit")


def audit_record(*, action: str, target: str = "", change: dict | None = None, request=None) -> AuditEntry:
    """Record that ``request``'s user (without a request: the system user running a command) did
    ``action`` on ``target``. Called by the views and commands that act, once the action succeeded."""
    request = getattr(request, "_request", request)  # DRF's request wraps Django's
    if request is None:
        actor, address = f"manage.py ({getpass.getuser()})", UNKNOWN
    else:
        actor, address = request.user.get_username() or "anonymous", client_address(request)
    entry = AuditEntry.objects.create(actor=actor, client=None if address == UNKNOWN else address,
                                      action=action, target=target, change=change or {})
    audit_log.info(json.dumps({
        "at": entry.at.isoformat(), "actor": entry.actor, "client": entry.client, "action": action,
        "target": target, "change": entry.change, "request_id": getattr(request, "request_id", None),
    }))
    return entry
