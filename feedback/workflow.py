"""The ticket's state machine: which action may happen in which status, and where it leads.
The one table every service of feedback/services.py checks before it changes a ticket."""

from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from feedback.models import Ticket

WAITING, PROCESSING, RESOLVED, CLOSED = (
    Ticket.Status.WAITING,
    Ticket.Status.PROCESSING,
    Ticket.Status.RESOLVED,
    Ticket.Status.CLOSED,
)
OPEN = frozenset({WAITING, PROCESSING})

# action → (the statuses it may start from, the status it leads to; None: unchanged)
TRANSITIONS: dict[str, tuple[frozenset, str | None]] = {
    "claim": (frozenset({WAITING}), PROCESSING),
    "assign": (frozenset({WAITING, PROCESSING}), PROCESSING),
    "step": (frozenset({PROCESSING}), None),
    "callback": (frozenset({PROCESSING}), None),
    "note": (frozenset({WAITING, PROCESSING, RESOLVED}), None),
    "hold": (frozenset({PROCESSING}), None),
    "resume": (frozenset({PROCESSING}), None),
    "resolve": (frozenset({PROCESSING}), RESOLVED),
    "reopen": (frozenset({RESOLVED}), PROCESSING),  # WAITING again when nobody handles it
    "close": (frozenset({WAITING, PROCESSING, RESOLVED}), CLOSED),
    "rate": (frozenset({RESOLVED, CLOSED}), None),
    "compensate": (frozenset({WAITING, PROCESSING, RESOLVED, CLOSED}), None),
}

ACTION_LABELS = {
    "claim": _("claimed"),
    "assign": _("assigned"),
    "step": _("given a processing step"),
    "callback": _("given a call-back record"),
    "note": _("given a note"),
    "hold": _("put on hold"),
    "resume": _("resumed"),
    "resolve": _("resolved"),
    "reopen": _("reopened"),
    "close": _("closed"),
    "rate": _("rated"),
    "compensate": _("compensated"),
}


class TransitionRefused(ServiceError):
    code = "transition_refused"


def transition(status: str, action: str) -> str:
    """The status `action` leads to from `status`; TransitionRefused if the table does not
    allow it there."""
    sources, target = TRANSITIONS[action]
    if status not in sources:
        raise TransitionRefused(
            _("A ticket that is %(status)s cannot be %(action)s."),
            params={"status": Ticket.Status(status).label, "action": ACTION_LABELS[action]},
        )
    return target or status
