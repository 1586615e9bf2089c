"""Customer-service reads: the service calendar and SLA targets the services count with, the
staff queue (within the user's store scope), the member's own tickets and timelines."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from feedback.models import (
    Handler,
    ServiceDay,
    ServiceHours,
    SlaTarget,
    Ticket,
    TicketEvent,
    TicketType,
)
from feedback.sla import BusinessCalendar
from feedback.workflow import OPEN
from loyalty.models import PointsAccount, Tier
from loyalty.tiers import tier_of
from members.models import Member
from stores.scoping import scoped

INTERNAL_KINDS = [TicketEvent.Kind.NOTE, TicketEvent.Kind.REMINDED, TicketEvent.Kind.ESCALATED]

# Used when staff deleted every target of a type: a working day to answer, three to resolve.
FALLBACK_TARGET = SlaTarget(first_response_minutes=12 * 60, resolution_minutes=36 * 60)


def service_calendar() -> BusinessCalendar:
    """The desk's opening hours per weekday and its dated exceptions (holidays closed all
    day, days with their own hours), as feedback/sla.py counts business minutes by."""
    hours = {row.weekday: (row.opens, row.closes) for row in ServiceHours.objects.all()}
    exceptions = {
        day.date: (day.opens, day.closes) if day.opens is not None else None
        for day in ServiceDay.objects.all()
    }
    return BusinessCalendar(
        hours=hours, exceptions=exceptions, zone=timezone.get_default_timezone()
    )


def member_tier(member: Member) -> Tier | None:
    """The tier the member stands in now (the entry tier without an account)."""
    account = PointsAccount.objects.filter(member=member).select_related("tier").first()
    return tier_of(account)


def sla_target_for(*, ticket_type: TicketType, tier: Tier | None) -> SlaTarget:
    """The most specific target: the tier's own, else the every-tier one of the type."""
    targets = SlaTarget.objects.filter(ticket_type=ticket_type).filter(
        Q(tier=tier) | Q(tier__isnull=True) if tier is not None else Q(tier__isnull=True)
    )
    return targets.order_by("tier_id").first() or FALLBACK_TARGET  # NULLs sort last


def staff_tickets(
    *,
    user,
    status: str | None = None,
    ticket_type: TicketType | None = None,
    store=None,
    brand=None,
    handler=None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> QuerySet:
    """The staff queue: tickets of the user's store scope, filtered, most urgent first."""
    tickets = scoped(Ticket.objects.all(), user=user, store_field="store")
    if status:
        tickets = tickets.filter(status=status)
    if ticket_type is not None:
        tickets = tickets.filter(ticket_type=ticket_type)
    if store is not None:
        tickets = tickets.filter(store=store)
    if brand is not None:
        tickets = tickets.filter(brand=brand)
    if handler is not None:
        tickets = tickets.filter(handler=handler)
    if overdue is not None:
        late = overdue_q(now or timezone.now())
        tickets = tickets.filter(late) if overdue else tickets.exclude(late)
    return tickets.select_related("ticket_type", "store", "brand", "shop", "handler").order_by(
        "-priority", "resolution_due", "pk"
    )


def overdue_q(now: datetime) -> Q:
    """Open tickets, not on hold, past a deadline they have not met."""
    return Q(status__in=OPEN, on_hold=False) & (
        Q(resolution_due__lt=now) | Q(first_responded_at__isnull=True, first_response_due__lt=now)
    )


def staff_ticket(*, user, pk: int) -> Ticket:
    """One ticket of the user's scope; Ticket.DoesNotExist outside it."""
    return scoped(Ticket.objects.all(), user=user, store_field="store").get(pk=pk)


def member_tickets(*, member: Member) -> QuerySet:
    """The member's own tickets, newest first (我的反馈)."""
    return (
        Ticket.objects.filter(member=member)
        .select_related("ticket_type", "store", "brand", "shop")
        .order_by("-created_at", "-pk")
    )


def member_ticket(*, member: Member, number: str) -> Ticket:
    """The member's own ticket by its number; Ticket.DoesNotExist for anyone else's."""
    return member_tickets(member=member).get(number=number)


def member_timeline(*, ticket: Ticket) -> QuerySet:
    """What the member may read of the ticket's history: never internal notes, reminders or
    escalations."""
    return (
        ticket.events.filter(public=True)
        .exclude(
            kind__in=[TicketEvent.Kind.NOTE, TicketEvent.Kind.REMINDED, TicketEvent.Kind.ESCALATED]
        )
        .select_related("actor__feedback_handler__department")
        .order_by("created_at", "pk")
    )


def staff_timeline(*, ticket: Ticket) -> QuerySet:
    """Every event of the ticket, internal ones included."""
    return ticket.events.select_related("actor").order_by("created_at", "pk")


def handler_of(user) -> Handler | None:
    """The handler card (name, department, 工号, contact) of a staff user, if they have one."""
    if user is None:
        return None
    return Handler.objects.select_related("user", "department").filter(user=user).first()


def supervisors_for(ticket: Ticket) -> list:
    """The users an overdue ticket escalates to: active supervisors of the handler's
    department and of the ticket's store's departments, else headquarters' supervisors."""
    supervisors = Handler.objects.filter(is_active=True, is_supervisor=True, user__is_active=True)
    near = Q(department__store=ticket.store)
    if ticket.handler_id:
        near |= Q(department__handlers__user_id=ticket.handler_id)
    users = [h.user for h in supervisors.filter(near).select_related("user").distinct()]
    if not users:
        users = [
            h.user
            for h in supervisors.filter(department__store__isnull=True).select_related("user")
        ]
    return users


def member_tickets_export(member: Member) -> list[dict]:
    """The member's tickets and what they were told, for the data download."""
    tickets = member_tickets(member=member).prefetch_related("events").order_by("created_at")
    return [
        {
            "number": t.number,
            "type": t.ticket_type.name,
            "store": t.store.code,
            "status": t.status,
            "details": t.details,
            "contact_name": t.contact_name,
            "contact_phone": t.contact_phone,
            "created_at": t.created_at.isoformat(),
            "events": [
                {"kind": e.kind, "text": e.text, "time": e.created_at.isoformat()}
                for e in t.events.all()
                if e.public and e.kind not in INTERNAL_KINDS
            ],
        }
        for t in tickets
    ]
