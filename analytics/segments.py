"""The member filter (会员列表 / 筛选会员): parameters → a queryset of members.

The parameters are a plain JSON-safe dict, so a saved group (analytics.MemberGroup.params)
and a rule tag (analytics.Tag.rule) keep exactly what the list page filtered by. Every
filter runs in Postgres; the staff member's data scope always applies.

Keys understood (all optional):
    tier: int (Tier id)                   rfm_class: str (label in the current snapshot)
    lifecycle_stage: str (LifecycleStage) home_store: int (Store id)
    tag: int (Tag id)
"""

from django.db.models import Q, QuerySet

from analytics.models import MemberTag, RfmRow, RfmSnapshot
from members.models import Member
from members.scoping import scoped_members


def _current_rows():
    snapshot = RfmSnapshot.objects.filter(is_current=True).values("pk")
    return RfmRow.objects.filter(snapshot__in=snapshot)


def members_filtered(params: dict, *, user) -> QuerySet:
    """Active members in `user`'s scope matching every filter of `params`."""
    members = scoped_members(Member.objects.filter(status=Member.Status.ACTIVE), user=user)
    if params.get("tier"):
        members = members.filter(points_account__tier_id=params["tier"])
    if params.get("home_store"):
        members = members.filter(home_store_id=params["home_store"])
    if params.get("rfm_class"):
        rows = _current_rows().filter(rfm_class=params["rfm_class"])
        members = members.filter(pk__in=rows.values("member_id"))
    if params.get("lifecycle_stage"):
        rows = _current_rows().filter(lifecycle_stage=params["lifecycle_stage"])
        members = members.filter(pk__in=rows.values("member_id"))
    if params.get("tag"):
        tagged = MemberTag.objects.filter(tag_id=params["tag"]).values("member_id")
        members = members.filter(Q(pk__in=tagged))
    return members
