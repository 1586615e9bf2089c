"""The SLA watch the beat runs every five minutes: a reminder to the handler before a
deadline, an escalation to the supervisors once overdue (notify only), and the closing of
resolved tickets nobody reopened. Each ticket's flag is set by a conditional UPDATE before
anything is sent, so a reminder or an escalation goes out once however often the watch runs."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from core.locks import advisory_lock
from feedback import selectors
from feedback.models import FeedbackSettings, Ticket, TicketEvent
from feedback.services import ticket_close
from feedback.workflow import OPEN

BATCH = 500


def tickets_sla_watch(*, now: datetime | None = None) -> dict:
    """Send the reminders and escalations that are due and auto-close old resolved tickets;
    returns how many of each. A second run at the same time does nothing."""
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0, "closed": 0}
    with advisory_lock("feedback.tickets_sla_watch") as acquired:
        if not acquired:
            return counts
        policy = FeedbackSettings.current()
        soon = now + timedelta(minutes=policy.remind_before_minutes)
        late = now - timedelta(minutes=policy.escalate_after_minutes)
        active = Ticket.objects.filter(status__in=OPEN, on_hold=False)

        first_due = active.filter(
            first_responded_at__isnull=True,
            reminded_first_at__isnull=True,
            first_response_due__lte=soon,
        )
        for pk in first_due.values_list("pk", flat=True)[:BATCH]:
            counts["reminded"] += _remind(pk, "reminded_first_at", "first_response_due", now)
        resolution_due = active.filter(
            reminded_resolution_at__isnull=True, resolution_due__lte=soon
        )
        for pk in resolution_due.values_list("pk", flat=True)[:BATCH]:
            counts["reminded"] += _remind(pk, "reminded_resolution_at", "resolution_due", now)

        overdue = active.filter(escalated_at__isnull=True).filter(
            Q(resolution_due__lte=late)
            | Q(first_responded_at__isnull=True, first_response_due__lte=late)
        )
        for pk in overdue.values_list("pk", flat=True)[:BATCH]:
            counts["escalated"] += _escalate(pk, now)

        stale = Ticket.objects.filter(
            status=Ticket.Status.RESOLVED,
            resolved_at__lte=now - timedelta(days=policy.auto_close_days),
        )
        for ticket in stale[:BATCH]:
            try:
                ticket_close(ticket=ticket, actor=None)
            except ServiceError:
                continue  # reopened meanwhile
            counts["closed"] += 1
    return counts


def _remind(pk: int, flag: str, due_field: str, now: datetime) -> int:
    with transaction.atomic():
        # Only the run that sets the flag sends: the row stays locked until commit.
        if not Ticket.objects.filter(pk=pk, **{f"{flag}__isnull": True}).update(**{flag: now}):
            return 0
        ticket = Ticket.objects.select_related("handler", "store").get(pk=pk)
        recipients = [ticket.handler] if ticket.handler_id else selectors.supervisors_for(ticket)
        due = getattr(ticket, due_field)
        which = "first_response" if due_field == "first_response_due" else "resolution"
        TicketEvent.objects.create(
            ticket=ticket,
            kind=TicketEvent.Kind.REMINDED,
            public=False,
            created_at=now,
            data={"deadline": which, "due": due.isoformat(), "to": [u.pk for u in recipients]},
        )
        _mail(
            recipients,
            subject=_("Ticket %(number)s is due at %(due)s"),
            body=_(
                "Ticket %(number)s (%(store)s) must have its %(deadline)s by %(due)s."
                " Please handle it in the back office."
            ),
            params={
                "number": ticket.number,
                "store": ticket.store.name,
                "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
                "deadline": _("first response") if which == "first_response" else _("resolution"),
            },
        )
    return 1


def _escalate(pk: int, now: datetime) -> int:
    with transaction.atomic():
        if not Ticket.objects.filter(pk=pk, escalated_at__isnull=True).update(escalated_at=now):
            return 0
        ticket = Ticket.objects.select_related("handler", "store").get(pk=pk)
        supervisors = selectors.supervisors_for(ticket)
        TicketEvent.objects.create(
            ticket=ticket,
            kind=TicketEvent.Kind.ESCALATED,
            public=False,
            created_at=now,
            data={"to": [u.pk for u in supervisors]},
        )
        _mail(
            supervisors,
            subject=_("Ticket %(number)s is overdue"),
            body=_(
                "Ticket %(number)s (%(store)s) is past its deadline (resolution due %(due)s,"
                " handler: %(handler)s)."
            ),
            params={
                "number": ticket.number,
                "store": ticket.store.name,
                "due": timezone.localtime(ticket.resolution_due).strftime("%Y-%m-%d %H:%M"),
                "handler": ticket.handler.get_username() if ticket.handler else "-",
            },
        )
    return 1


def _mail(users, *, subject, body, params: dict) -> None:
    """An e-mail to each staff user who has an address, in the site's language, after commit."""
    addresses = sorted({u.email for u in users if u.email})
    if not addresses:
        return
    with translation.override(settings.LANGUAGE_CODE):
        rendered = {k: str(v) for k, v in params.items()}
        subject_text, body_text = str(subject) % rendered, str(body) % rendered
    transaction.on_commit(
        lambda: send_mail(subject_text, body_text, None, addresses, fail_silently=True)
    )
