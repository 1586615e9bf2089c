"""Customer-service writes: a member files a ticket, staff handle it through the state
machine of feedback/workflow.py, the member rates it, staff compensate within their role's
cap. Each service is one transaction that locks the ticket row first, re-checks the status
and writes a TicketEvent with who and when; every status change tells the member."""

from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.dates import local_day_start
from core.exceptions import PermissionDenied, ServiceError
from core.roles import Role
from coupons.issuing import campaign_get_or_create, coupon_issue
from coupons.models import Campaign, CouponTemplate
from feedback import selectors
from feedback.models import (
    Compensation,
    CompensationCap,
    FeedbackSettings,
    Rating,
    RatingTag,
    Ticket,
    TicketEvent,
    TicketPhoto,
    TicketType,
)
from feedback.photos import ticket_photo_name, ticket_photo_storage
from feedback.sla import business_deadline, business_minutes_between
from feedback.workflow import transition
from loyalty.ledger import points_post
from loyalty.models import PointsEntry
from members.messaging import messages_send
from members.models import Member, Message
from stores.models import Brand, Shop, Store
from stores.scoping import scoped

NUMBER_PREFIX = "FK"
COMPENSATION_CAMPAIGN = "客服补偿"  # the campaign compensation coupons roll up under (data)


# --- Submitting ----------------------------------------------------------------------------


def ticket_number_next(*, now: datetime | None = None) -> str:
    """The next ticket number of the Shanghai day: FK + yyyymmdd + a 4-digit sequence. One
    upsert of the day's counter row, which stays locked until the caller commits, so
    concurrent submissions queue there and never share a number."""
    day = timezone.localdate(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO feedback_ticketcounter (day, last) VALUES (%s, 1)"
            " ON CONFLICT (day) DO UPDATE SET last = feedback_ticketcounter.last + 1"
            " RETURNING last",
            [day],
        )
        sequence = cursor.fetchone()[0]
    return f"{NUMBER_PREFIX}{day:%Y%m%d}{sequence:04d}"


def ticket_submit(
    *,
    member: Member,
    ticket_type: TicketType,
    store: Store,
    details: str,
    contact_name: str,
    contact_phone: str,
    brand: Brand | None = None,
    shop: Shop | None = None,
    photos=(),
    once: str = "",
    per_day: int | None = None,
) -> Ticket:
    """File the member's ticket with its photos (JPEG bytes or files already cleaned by
    feedback/photos.py); its deadlines come from
    the SLA target of the type and the member's tier, counted in the desk's business hours.
    Locks the member row: the form's one-time token `once` files one ticket (the same token
    again returns it), and with `per_day` (the member pages pass the policy's
    tickets_per_day; staff filing for a member do not) a member files at most that many a
    Shanghai day."""
    details = (details or "").strip()
    if not details:
        raise ServiceError(_("Please describe the problem."), code="details_missing")
    if len(details) > 1000:
        raise ServiceError(_("Please keep the details within 1000 characters."), code="too_long")
    if not (contact_name or "").strip() or not (contact_phone or "").strip():
        raise ServiceError(_("A contact name and phone are required."), code="contact_missing")
    if not ticket_type.is_active:
        raise ServiceError(_("This type of feedback is no longer offered."), code="type_inactive")
    if shop is not None:
        if shop.floor.store_id != store.pk:
            raise ServiceError(_("The shop is not in the chosen store."), code="shop_elsewhere")
        if brand is not None and brand.pk != shop.brand_id:
            raise ServiceError(_("The shop is not the chosen brand's."), code="shop_elsewhere")
        brand = shop.brand
    policy = FeedbackSettings.current()
    photos = list(photos)
    if len(photos) > policy.max_photos:
        raise ServiceError(
            _("At most %(count)s photos."),
            code="too_many_photos",
            params={"count": policy.max_photos},
        )
    tier = selectors.member_tier(member)
    target = selectors.sla_target_for(ticket_type=ticket_type, tier=tier)
    calendar = selectors.service_calendar()
    now = timezone.now()
    fields = {
        "member": member,
        "tier": tier,
        "ticket_type": ticket_type,
        "store": store,
        "brand": brand,
        "shop": shop,
        "details": details,
        "contact_name": contact_name.strip()[:32],
        "contact_phone": contact_phone.strip()[:20],
        "priority": target.priority,
        "first_response_due": business_deadline(now, target.first_response_minutes, calendar),
        "resolution_due": business_deadline(now, target.resolution_minutes, calendar),
        "created_at": now,
    }
    saved: list[str] = []
    try:
        with transaction.atomic():
            # One at a time; NO KEY UPDATE leaves rows referencing the member unblocked.
            Member.objects.select_for_update(no_key=True).filter(pk=member.pk).first()
            earlier = ticket_submitted_with(member=member, once=once)
            if earlier is not None:
                return earlier
            if per_day is not None:
                _tickets_quota_check(member=member, limit=per_day, now=now)
            ticket = Ticket.objects.create(number=ticket_number_next(now=now), **fields)
            for position, content in enumerate(photos):
                photo = TicketPhoto(ticket=ticket, position=position)
                data = content if isinstance(content, bytes) else content.read()
                photo.image.save(ticket_photo_name(), ContentFile(data), save=False)
                saved.append(photo.image.name)
                photo.save()
            _event(
                ticket,
                TicketEvent.Kind.CREATED,
                actor=None,
                now=now,
                data={"once": once} if once else {},
            )
            _notify(ticket)
    except BaseException:
        for name in saved:  # files are not transactional: none may outlive a rolled-back ticket
            ticket_photo_storage().delete(name)
        raise
    return ticket


def ticket_submitted_with(*, member: Member, once: str) -> Ticket | None:
    """The member's ticket filed with the one-time token `once`, if there is one."""
    if not once:
        return None
    event = (
        TicketEvent.objects.filter(
            ticket__member=member, kind=TicketEvent.Kind.CREATED, data__once=once
        )
        .select_related("ticket")
        .first()
    )
    return event.ticket if event else None


def _tickets_quota_check(*, member: Member, limit: int, now: datetime) -> None:
    sent = Ticket.objects.filter(
        member=member, created_at__gte=local_day_start(timezone.localdate(now))
    ).count()
    if sent >= limit:
        raise ServiceError(
            _("You can send %(limit)s feedback tickets a day. Please try again tomorrow."),
            code="tickets_quota",
            params={"limit": limit},
        )


# --- Handling ------------------------------------------------------------------------------


def ticket_claim(*, ticket: Ticket, actor) -> Ticket:
    """The actor takes a waiting ticket (locks it: of two claiming at once, one wins)."""
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        ticket.status = transition(ticket.status, "claim")
        ticket.handler = actor
        ticket.save(update_fields=["status", "handler", "updated_at"])
        _event(ticket, TicketEvent.Kind.CLAIMED, actor=actor)
        _notify(ticket)
    return ticket


def ticket_assign(*, ticket: Ticket, actor, handler_user) -> Ticket:
    """Give the ticket to `handler_user` (who must be allowed to handle tickets)."""
    if not (handler_user.is_active and handler_user.has_perm("feedback.change_ticket")):
        raise ServiceError(_("This user does not handle tickets."), code="not_a_handler")
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        if not scoped(Ticket.objects.filter(pk=ticket.pk), user=handler_user, store_field="store"):
            raise ServiceError(
                _("This user does not handle tickets of this store."), code="not_a_handler"
            )
        before = ticket.status
        ticket.status = transition(ticket.status, "assign")
        previous = ticket.handler_id
        ticket.handler = handler_user
        ticket.save(update_fields=["status", "handler", "updated_at"])
        _event(
            ticket,
            TicketEvent.Kind.ASSIGNED,
            actor=actor,
            data={"from": previous, "to": handler_user.pk},
        )
        if ticket.status != before:
            _notify(ticket)
    return ticket


def ticket_step(*, ticket: Ticket, actor, text: str, public: bool = True) -> TicketEvent:
    """A processing step; a public one is the first response if none came before."""
    text = _required(text)
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        transition(ticket.status, "step")
        event = _event(ticket, TicketEvent.Kind.STEP, actor=actor, text=text, public=public)
        if public:
            _responded(ticket, event.created_at)
    return event


def ticket_callback(*, ticket: Ticket, actor, called_at: datetime, outcome: str, text: str):
    """A call-back record (致电给予回复): when, what came of it, what was said."""
    if outcome not in TicketEvent.Outcome.values:
        raise ServiceError(_("Choose the outcome of the call."), code="outcome_invalid")
    if called_at > timezone.now() + timedelta(minutes=5):
        raise ServiceError(_("The call cannot be in the future."), code="called_in_future")
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        transition(ticket.status, "callback")
        event = _event(
            ticket,
            TicketEvent.Kind.CALLBACK,
            actor=actor,
            text=(text or "").strip(),
            callback_at=called_at,
            callback_outcome=outcome,
        )
        _responded(ticket, event.created_at)
    return event


def ticket_note(*, ticket: Ticket, actor, text: str) -> TicketEvent:
    """An internal note: staff only, never shown to the member, not a response."""
    text = _required(text)
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        transition(ticket.status, "note")
        return _event(ticket, TicketEvent.Kind.NOTE, actor=actor, text=text, public=False)


def ticket_hold(*, ticket: Ticket, actor, text: str = "") -> Ticket:
    """Pause the SLA clock while waiting on the member."""
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        transition(ticket.status, "hold")
        if ticket.on_hold:
            raise ServiceError(_("The ticket is already on hold."), code="already_on_hold")
        now = timezone.now()
        ticket.on_hold, ticket.held_since = True, now
        ticket.save(update_fields=["on_hold", "held_since", "updated_at"])
        _event(ticket, TicketEvent.Kind.HELD, actor=actor, text=(text or "").strip(), now=now)
    return ticket


def ticket_resume(*, ticket: Ticket, actor, text: str = "") -> Ticket:
    """Restart the SLA clock: the due times move by the business minutes held."""
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        transition(ticket.status, "resume")
        if not ticket.on_hold:
            raise ServiceError(_("The ticket is not on hold."), code="not_on_hold")
        now = timezone.now()
        held = _unhold(ticket, now)
        ticket.save(
            update_fields=[
                "on_hold",
                "held_since",
                "first_response_due",
                "resolution_due",
                "updated_at",
            ]
        )
        _event(
            ticket,
            TicketEvent.Kind.RESUMED,
            actor=actor,
            text=(text or "").strip(),
            data={"held_minutes": held},
            now=now,
        )
    return ticket


def ticket_resolve(*, ticket: Ticket, actor, text: str) -> Ticket:
    """Resolve with what was done (the member's answer, so a first response too)."""
    text = _required(text)
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        ticket.status = transition(ticket.status, "resolve")
        now = timezone.now()
        if ticket.on_hold:
            ticket.on_hold, ticket.held_since = False, None
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
        ticket.resolved_at = now
        ticket.save(
            update_fields=[
                "status",
                "on_hold",
                "held_since",
                "first_responded_at",
                "resolved_at",
                "updated_at",
            ]
        )
        _event(ticket, TicketEvent.Kind.RESOLVED, actor=actor, text=text, now=now)
        _notify(ticket)
    return ticket


def ticket_reopen(*, ticket: Ticket, actor=None, member: Member | None = None, reason: str):
    """Reopen a resolved ticket within the policy's days (by staff, or by its member): back
    to its handler (or the queue), with a fresh resolution deadline."""
    reason = _required(reason)
    if (actor is None) == (member is None):
        raise ValueError("a ticket is reopened by staff or by its member")
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        if member is not None and ticket.member_id != member.pk:
            raise PermissionDenied()
        ticket.status = transition(ticket.status, "reopen")
        now = timezone.now()
        policy = FeedbackSettings.current()
        if ticket.resolved_at and ticket.resolved_at < now - timedelta(days=policy.reopen_days):
            raise ServiceError(
                _("Tickets can be reopened within %(days)s days of their resolution."),
                code="reopen_too_late",
                params={"days": policy.reopen_days},
            )
        if ticket.handler_id is None:
            ticket.status = Ticket.Status.WAITING
        target = selectors.sla_target_for(
            ticket_type=ticket.ticket_type, tier=selectors.member_tier(ticket.member)
        )
        ticket.resolution_due = business_deadline(
            now, target.resolution_minutes, selectors.service_calendar()
        )
        ticket.resolved_at = None
        ticket.reminded_resolution_at = ticket.escalated_at = None
        ticket.reopen_count += 1
        ticket.save(
            update_fields=[
                "status",
                "resolution_due",
                "resolved_at",
                "reminded_resolution_at",
                "escalated_at",
                "reopen_count",
                "updated_at",
            ]
        )
        _event(ticket, TicketEvent.Kind.REOPENED, actor=actor, text=reason, now=now)
        _notify(ticket)
    return ticket


def ticket_close(*, ticket: Ticket, actor=None) -> Ticket:
    """Close the ticket: by staff from any open status, by the system (no actor) only once
    it is resolved."""
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        if actor is None and ticket.status != Ticket.Status.RESOLVED:
            raise ServiceError(
                _("Only resolved tickets close by themselves."), code="transition_refused"
            )
        ticket.status = transition(ticket.status, "close")
        now = timezone.now()
        ticket.closed_at = now
        if ticket.on_hold:
            ticket.on_hold, ticket.held_since = False, None
        ticket.save(update_fields=["status", "closed_at", "on_hold", "held_since", "updated_at"])
        _event(ticket, TicketEvent.Kind.CLOSED, actor=actor, now=now)
        _notify(ticket)
    return ticket


def ticket_rate(*, ticket: Ticket, member: Member, stars: int, tags, comment: str = "") -> Rating:
    """The member's one rating of a resolved (or closed) ticket: stars, tags, a comment."""
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ServiceError(_("Give one to five stars."), code="stars_invalid")
    tags = list(tags)
    if any(not isinstance(tag, RatingTag) or not tag.is_active for tag in tags):
        raise ServiceError(_("Choose tags from the list."), code="tag_invalid")
    if len(comment or "") > 500:
        raise ServiceError(_("Please keep the comment within 500 characters."), code="too_long")
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.member_id != member.pk:
            raise PermissionDenied()
        transition(ticket.status, "rate")
        if Rating.objects.filter(ticket=ticket).exists():
            raise ServiceError(_("This ticket has been rated already."), code="already_rated")
        rating = Rating.objects.create(
            ticket=ticket, stars=stars, comment=(comment or "").strip(), handler=ticket.handler
        )
        rating.tags.set(tags)
        _event(
            ticket,
            TicketEvent.Kind.RATED,
            actor=None,
            data={"stars": stars, "tags": [tag.pk for tag in tags]},
        )
    return rating


# --- Compensation --------------------------------------------------------------------------


def compensation_cap_for(user) -> CompensationCap | None:
    """The most generous cap of the user's roles; None: unlimited (superusers, HQ)."""
    roles = set(user.groups.values_list("name", flat=True))
    if user.is_superuser or Role.HQ_ADMIN in roles:
        return None
    caps = list(CompensationCap.objects.filter(role__in=roles))
    return CompensationCap(
        max_points_per_ticket=max((c.max_points_per_ticket for c in caps), default=0),
        max_coupon_value_fen_per_ticket=max(
            (c.max_coupon_value_fen_per_ticket for c in caps), default=0
        ),
    )


def coupon_value_fen(template: CouponTemplate) -> int | None:
    """What a coupon of `template` is worth at most; None when it has no bound (a percentage
    coupon without a cap)."""
    if template.kind == CouponTemplate.Kind.PERCENT:
        return template.max_discount_fen or None
    return template.face_value_fen


def compensation_grant(
    *,
    ticket: Ticket,
    actor,
    kind: str,
    points: int = 0,
    template: CouponTemplate | None = None,
    reason: str,
    once: str,
) -> Compensation:
    """Grant the ticket's member points (through the ledger) or a coupon (through coupon
    issuing), within the actor's per-ticket cap, audited. Idempotent on the form's one-time
    token `once`: the same token again returns the first grant. Locks the ticket row, so two
    grants at once cannot pass the cap together."""
    if not actor.has_perm("feedback.grant_compensation"):
        raise PermissionDenied()
    reason = _required(reason)[:200]
    if not once:
        raise ValueError("a grant needs its one-time token")
    key = f"feedback:compensation:{once}"
    if kind == Compensation.Kind.POINTS:
        if not isinstance(points, int) or points <= 0:
            raise ServiceError(_("Enter a positive number of points."), code="points_invalid")
        value_fen = 0
    elif kind == Compensation.Kind.COUPON:
        if template is None:
            raise ServiceError(_("Choose a coupon."), code="template_missing")
        points, value_fen = 0, coupon_value_fen(template)
    else:
        raise ServiceError(_("Choose points or a coupon."), code="kind_invalid")
    with transaction.atomic():
        ticket = _locked(ticket, staff=actor)
        done = Compensation.objects.filter(key=key).first()
        if done is not None:
            if done.ticket_id != ticket.pk or done.kind != kind:
                raise ServiceError(_("This form was already used for another grant."), code="once")
            return done
        transition(ticket.status, "compensate")
        cap = compensation_cap_for(actor)
        if cap is not None:
            granted = ticket.compensations.aggregate(p=Sum("points"), v=Sum("value_fen"))
            if kind == Compensation.Kind.POINTS and (granted["p"] or 0) + points > (
                cap.max_points_per_ticket
            ):
                raise ServiceError(
                    _("Your role may grant at most %(points)s points on one ticket."),
                    code="over_cap",
                    params={"points": cap.max_points_per_ticket},
                )
            if kind == Compensation.Kind.COUPON and (
                value_fen is None
                or (granted["v"] or 0) + value_fen > cap.max_coupon_value_fen_per_ticket
            ):
                raise ServiceError(
                    _("Your role may grant coupons worth at most %(yuan)s yuan on one ticket."),
                    code="over_cap",
                    params={"yuan": f"{cap.max_coupon_value_fen_per_ticket / 100:g}"},
                )
        coupon = None
        if kind == Compensation.Kind.POINTS:
            points_post(
                member_id=ticket.member_id,
                kind=PointsEntry.Kind.ADJUST,
                points=points,
                key=key,
                memo=f"{ticket.number} {reason}",
                actor=actor,
            )
        else:
            campaign = campaign_get_or_create(
                channel=Campaign.Channel.MANUAL, name=COMPENSATION_CAMPAIGN, actor=actor
            )
            coupon = coupon_issue(
                template=template,
                member=ticket.member,
                campaign=campaign,
                key=f"{key}:{ticket.member_id}",
            )
        compensation = Compensation.objects.create(
            ticket=ticket,
            kind=kind,
            points=points,
            coupon=coupon,
            value_fen=value_fen or 0,
            actor=actor,
            reason=reason,
            key=key,
        )
        _event(
            ticket,
            TicketEvent.Kind.COMPENSATED,
            actor=actor,
            text=reason,
            data={"kind": kind, "points": points, "coupon": coupon.code if coupon else None},
        )
        audit_log(
            actor=actor,
            action="feedback.compensation.granted",
            target=ticket,
            data={
                "kind": kind,
                "points": points,
                "template": template.code if template else None,
                "value_fen": value_fen or 0,
                "reason": reason,
            },
        )
    return compensation


# --- The member's data rights ---------------------------------------------------------------


def member_tickets_erase(*, member_id: int) -> dict:
    """An account being deleted (注销): what the member wrote and sent (details, contact,
    photos, rating comments, reopen reasons) is erased; the tickets stay for the statistics,
    without identity."""
    tickets = Ticket.objects.filter(member_id=member_id)
    photos = 0
    for photo in TicketPhoto.objects.filter(ticket__in=tickets):
        photo.image.delete(save=False)
        photo.delete()
        photos += 1
    count = tickets.update(details="", contact_name="", contact_phone="")
    Rating.objects.filter(ticket__in=tickets).update(comment="")
    TicketEvent.objects.filter(
        ticket__in=tickets, actor__isnull=True, kind=TicketEvent.Kind.REOPENED
    ).update(text="")
    return {"tickets": count, "ticket_photos": photos}


# --- Shared steps --------------------------------------------------------------------------


def _locked(ticket: Ticket, *, staff=None) -> Ticket:
    """The ticket's row, locked until commit. With `staff`: only if that user may handle
    tickets and the ticket's store is in their scope (PermissionDenied otherwise)."""
    tickets = Ticket.objects.select_for_update().select_related("ticket_type")
    if staff is not None:
        if not staff.has_perm("feedback.change_ticket"):
            raise PermissionDenied()
        tickets = scoped(tickets, user=staff, store_field="store")
    try:
        return tickets.get(pk=ticket.pk)
    except Ticket.DoesNotExist:
        raise PermissionDenied() from None


def _required(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError(_("Please write something."), code="text_missing")
    return text


def _event(ticket: Ticket, kind: str, *, actor, now: datetime | None = None, **fields):
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now or timezone.now(),
        **fields,
    )


def _responded(ticket: Ticket, at: datetime) -> None:
    """Record the first response: set once, never moved by a later one."""
    if ticket.first_responded_at is None:
        Ticket.objects.filter(pk=ticket.pk, first_responded_at__isnull=True).update(
            first_responded_at=at, updated_at=at
        )
        ticket.first_responded_at = at


def _unhold(ticket: Ticket, now: datetime) -> int:
    """End the hold; the open deadlines move by the business minutes it lasted."""
    calendar = selectors.service_calendar()
    held = business_minutes_between(ticket.held_since, now, calendar)
    if held:
        if ticket.first_responded_at is None:
            ticket.first_response_due = business_deadline(ticket.first_response_due, held, calendar)
        ticket.resolution_due = business_deadline(ticket.resolution_due, held, calendar)
    ticket.on_hold, ticket.held_since = False, None
    return held


def ticket_path(ticket: Ticket) -> str:
    """The member's page of the ticket (/m/feedback/<number>/)."""
    return reverse("h5:feedback:ticket", args=[ticket.number])


def _notify(ticket: Ticket) -> None:
    """Tell the member where their ticket stands (inbox and WeChat template message)."""
    messages_send(
        members=Member.objects.filter(pk=ticket.member_id),
        kind=Message.Kind.FEEDBACK,
        title=_("Feedback %(number)s: %(status)s"),
        body=_("Your feedback %(number)s (%(type)s) is now: %(status)s. Tap to see the details."),
        link=ticket_path(ticket),
        params={
            "number": ticket.number,
            "status": Ticket.Status(ticket.status).label,
            "type": ticket.ticket_type.name,
        },
    )
