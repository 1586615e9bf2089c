from django.db import models

from core.client_ip import current_client_ip
from core.models import AuditLog


def audit_log(*, actor, action: str, target: models.Model | None = None, data=None) -> AuditLog:
    """Record that `actor` (a user, or None for the system) did `action` to `target`, with
    the client address of the request being served (core.client_ip), if any."""
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
        ip_address=current_client_ip(),
    )
