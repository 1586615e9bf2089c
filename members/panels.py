"""Panels higher apps add to the back office's member page, the member 360 (个人资料): members
cannot import them (the layers), so each app registers its own from its apps.py, as loyalty
registers its receipts in members/scoping.py.

A panel is a function `panel(*, member, user)` returning a MemberPanel, or None to show
nothing (no permission, nothing to show). It checks the permissions its content needs and
keeps to one or two queries with their joins planned: the page has a query budget as a whole
(tests/analytics/test_member_360.py).

Panels are shown in the order of their `order`, then of registration. The slots in use:

    100 tier and points (loyalty)        500 recent receipts (loyalty)
    200 RFM history (analytics)          600 coupons (coupons)
    300 lifecycle stage (analytics)      700 messages (members)
    400 predicted value (analytics)      800 points-mall redemptions, 810 lottery draws (mall)
                                         900 feedback tickets (feedback)

Leave gaps: a new panel takes a free number between its neighbours. `wide` panels span the
page; the others sit two abreast on a wide screen (one column on a phone).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_ORDER = 1000


@dataclass(frozen=True)
class MemberPanel:
    template: str  # a partial, rendered with `panel` (this object) in its context
    context: dict = field(default_factory=dict)
    wide: bool = False


@dataclass(frozen=True)
class _Registered:
    panel: Callable[..., MemberPanel | None]
    order: int
    sequence: int


_panels: list[_Registered] = []


def member_panel_register(
    panel: Callable[..., MemberPanel | None], *, order: int = DEFAULT_ORDER
) -> None:
    """Add `panel(*, member, user)` to the member page at `order` (see the slots above); it
    returns None to show nothing. Registering the same function again changes nothing."""
    if any(registered.panel is panel for registered in _panels):
        return
    _panels.append(_Registered(panel, order, len(_panels)))
    _panels.sort(key=lambda registered: (registered.order, registered.sequence))


def member_panels(*, member, user) -> list[MemberPanel]:
    panels = (registered.panel(member=member, user=user) for registered in _panels)
    return [panel for panel in panels if panel is not None]


def messages_member_panel(*, member, user) -> MemberPanel | None:
    """The member's latest inbox messages (系统消息), read or unread, and how many there are and
    are unread: one query (the counts are window aggregates over all the member's rows)."""
    if not user.has_perm("members.view_message"):
        return None
    from django.db.models import Count, Q, Window

    from members.models import Message

    recent = list(
        Message.objects.filter(member=member).annotate(
            total=Window(Count("id")), unread=Window(Count("id", filter=Q(read_at__isnull=True)))
        )[:5]
    )
    counts = {"total": recent[0].total, "unread": recent[0].unread} if recent else {}
    return MemberPanel(
        "backoffice/members/includes/_messages_member.html",
        {"counts": {"total": 0, "unread": 0} | counts, "recent": recent},
    )
