"""The staff workbench's reads (客服工作台): the queue in its order with counts per status, a
ticket's deadlines as staff read them, the member card beside a ticket, the handlers a ticket
may go to and the actions its status allows (from feedback/workflow.py's table)."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from coupons.models import Coupon, CouponTemplate
from feedback import selectors
from feedback.models import Ticket
from feedback.workflow import TRANSITIONS
from loyalty.tiers import tier_entry
from members.models import Member, StaffProfile
from members.scoping import scoped_members

RECENT_COUPONS = 5


def queue_ordered(tickets: QuerySet, *, now: datetime) -> QuerySet:
    """Overdue tickets first, then by priority (a 钻石卡 member's complaint first), then by the
    nearest deadline still open; each row with its member's tier name."""
    return tickets.annotate(
        late=Case(
            When(selectors.overdue_q(now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        next_due=Case(
            When(first_responded_at__isnull=True, then=F("first_response_due")),
            default=F("resolution_due"),
        ),
        tier_name=F("member__points_account__tier__name"),
    ).order_by(
        Case(When(late=True, then=Value(0)), default=Value(1)),
        "-priority",
        "next_due",
        "pk",
    )


def status_counts(tickets: QuerySet, *, now: datetime) -> dict[str, int]:
    """How many of `tickets` are in each status, open ones in all, and overdue: one query."""
    counts = tickets.order_by().aggregate(
        all=Count("pk"),
        open=Count("pk", filter=Q(status__in=[Ticket.Status.WAITING, Ticket.Status.PROCESSING])),
        overdue=Count("pk", filter=selectors.overdue_q(now)),
        **{s: Count("pk", filter=Q(status=s)) for s in Ticket.Status.values},
    )
    return counts


@dataclass(frozen=True)
class Deadline:
    label: str
    due: datetime | None
    met_at: datetime | None
    late: bool
    minutes_left: int | None  # negative: overdue by so much; None: met, paused or closed

    @property
    def text(self) -> str:
        return due_text(self.minutes_left)


def deadlines(ticket: Ticket, *, now: datetime) -> list[Deadline]:
    """The first-response and resolution deadlines: met when, or the time left (wall clock)."""
    open_ = ticket.status in (Ticket.Status.WAITING, Ticket.Status.PROCESSING)
    rows = []
    for label, due, met_at in (
        (_("First response"), ticket.first_response_due, ticket.first_responded_at),
        (_("Resolution"), ticket.resolution_due, ticket.resolved_at),
    ):
        running = open_ and met_at is None and not ticket.on_hold
        left = int((due - now).total_seconds() // 60) if running else None
        late = (met_at is not None and met_at > due) or (left is not None and left < 0)
        rows.append(Deadline(label, due, met_at, late, left))
    return rows


def duration_text(minutes: int) -> str:
    """42 → "42 min", 135 → "2 h 15 min", 3000 → "2 d 2 h" (absolute value)."""
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": mins}
    return _("%(minutes)s min") % {"minutes": mins}


def due_text(minutes_left: int | None) -> str:
    if minutes_left is None:
        return ""
    if minutes_left < 0:
        return _("overdue by %(time)s") % {"time": duration_text(minutes_left)}
    return _("%(time)s left") % {"time": duration_text(minutes_left)}


def allowed_actions(ticket: Ticket, user) -> set[str]:
    """The actions the ticket's status allows (workflow.TRANSITIONS) that `user` may take."""
    if not user.has_perm("feedback.change_ticket"):
        actions = set()
    else:
        actions = {
            action
            for action, (sources, _target) in TRANSITIONS.items()
            if ticket.status in sources and action not in ("rate", "compensate")
        }
        actions.discard("resume" if not ticket.on_hold else "hold")
    if user.has_perm("feedback.grant_compensation"):
        actions.add("compensate")
    return actions


def handlers_for(ticket: Ticket):
    """Active users who handle tickets (feedback.change_ticket) and whose data scope covers
    the ticket's store: the choices of 指派 (the service checks again)."""
    perm = Permission.objects.get(content_type__app_label="feedback", codename="change_ticket")
    store = ticket.store
    covers = (
        Q(is_superuser=True)
        | Q(staff_profile__scope=StaffProfile.Scope.ALL)
        | Q(
            staff_profile__scope=StaffProfile.Scope.REGION, staff_profile__region_id=store.region_id
        )
        | Q(staff_profile__scope=StaffProfile.Scope.STORE, staff_profile__store_id=store.pk)
    )
    may = Q(is_superuser=True) | Q(groups__permissions=perm) | Q(user_permissions=perm)
    users = get_user_model().objects.filter(covers & may, is_active=True)
    return (
        get_user_model()
        .objects.filter(pk__in=users.values("pk"))
        .select_related("staff_profile")
        .order_by("username")
    )


def queue_handlers(tickets: QuerySet):
    """The users handling any of `tickets` (the queue's handler filter)."""
    return (
        get_user_model()
        .objects.filter(pk__in=tickets.order_by().values("handler_id"))
        .select_related("staff_profile")
        .order_by("username")
    )


def users_by_pk(pks) -> dict:
    """Staff users by id, with their profiles (the assignees a timeline names)."""
    pks = {pk for pk in pks if isinstance(pk, int)}
    if not pks:
        return {}
    users = get_user_model().objects.filter(pk__in=pks).select_related("staff_profile")
    return {user.pk: user for user in users}


def staff_name(user) -> str:
    profile = getattr(user, "staff_profile", None)
    return (profile.name if profile else "") or user.get_full_name() or user.get_username()


def member_card(member: Member, *, user) -> dict:
    """The member beside the ticket: masked name and phone (in the template), tier, points
    balance and recent coupons as far as `user`'s permissions go, and whether the member 360
    is open to them."""
    from loyalty.selectors import account_of

    account = account_of(member)
    card = {
        "member": member,
        "tier": account.tier if account and account.tier_id else tier_entry(),
        "points": None,
        "coupons": None,
        "member_url": False,
    }
    if user.has_perm("loyalty.view_pointsaccount"):
        card["points"] = account.balance if account else 0
    if user.has_perm("coupons.view_coupon"):
        card["coupons"] = list(
            Coupon.objects.filter(member=member)
            .select_related("template")
            .order_by("-issued_at", "-id")[:RECENT_COUPONS]
        )
    if user.has_perm("members.view_member"):
        card["member_url"] = scoped_members(Member.objects.filter(pk=member.pk), user=user).exists()
    return card


def compensation_templates() -> QuerySet:
    """Active coupon templates still valid to issue, for a compensation coupon."""
    now = timezone.now()
    return (
        CouponTemplate.objects.filter(is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .order_by("name")
    )
