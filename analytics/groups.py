"""Member groups (建立分组): dynamic groups re-run their filter, static ones list members."""

from django.db.models import QuerySet
from django.utils import timezone

from analytics.models import GroupMember, MemberGroup
from analytics.segments import members_filtered
from members.models import Member
from members.scoping import scoped_members


def group_members(group: MemberGroup, *, user) -> QuerySet:
    """The group's active members in `user`'s scope, now: a dynamic group's filter is
    evaluated again, a static group's saved members are narrowed to those still active and
    in scope."""
    if group.kind == MemberGroup.Kind.DYNAMIC:
        return members_filtered(group.params, user=user)
    saved = GroupMember.objects.filter(group=group).values("member_id")
    active = Member.objects.filter(status=Member.Status.ACTIVE, pk__in=saved)
    return scoped_members(active, user=user)


def group_member_ids(group: MemberGroup, *, user) -> list[int]:
    """Ids of group_members(), in id order."""
    return list(group_members(group, user=user).order_by("pk").values_list("pk", flat=True))


def group_count_refresh(group: MemberGroup, *, user) -> int:
    """Count the group now and keep the count on it."""
    count = group_members(group, user=user).count()
    MemberGroup.objects.filter(pk=group.pk).update(member_count=count, counted_at=timezone.now())
    group.member_count, group.counted_at = count, timezone.now()
    return count
