"""The points mall's panel on the member 360 (members/panels.py slot 800; registered in
mall/apps.py): the member's redemptions within the staff member's store scope."""

from django.db.models import Count, Window

from mall.models import Redemption
from mall.selectors import redemptions_scoped
from members.panels import MemberPanel

RECENT = 10


def redemptions_member_panel(*, member, user) -> MemberPanel | None:
    """The member's latest redemptions (code, goods, points, status) and how many there are,
    in one query; nothing for staff who do not see redemptions, or when there are none."""
    if not user.has_perm("mall.view_redemption"):
        return None
    redemptions = list(
        redemptions_scoped(Redemption.objects.filter(member=member), user=user)
        .select_related("goods", "pickup_store")
        .annotate(all_count=Window(Count("id")))
        .order_by("-created_at", "-pk")[:RECENT]
    )
    if not redemptions:
        return None
    return MemberPanel(
        "backoffice/mall/includes/_redemptions_member.html",
        {"redemptions": redemptions, "total": redemptions[0].all_count},
        wide=True,
    )
