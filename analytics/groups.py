"""Member groups (建立分组): dynamic groups re-run their filter, static ones list members.

A group is always evaluated in the scope of the staff member looking at it or sending to
it: the same dynamic group shows a store manager their store's members only.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.models import GroupMember, MemberGroup
from analytics.segments import (
    members_filtered,
    params_clean,
)
from core.audit import audit_log
from core.exceptions import ServiceError
from members.models import Member
from members.scoping import scoped_members
from stores.scoping import store_lookups

COUNT_FRESH = timedelta(minutes=15)  # a count younger than this is shown without recounting


class GroupError(ServiceError):
    pass


def group_members(group: MemberGroup, *, user) -> QuerySet:
    """The group's active members in `user`'s scope, now: a dynamic group's filter is
    evaluated again, a static group's saved members are narrowed to those still active and
    in scope. A dynamic group whose filter no longer holds raises segments.FilterInvalid."""
    if group.kind == MemberGroup.Kind.DYNAMIC:
        return members_filtered(group.params, user=user)
    saved = GroupMember.objects.filter(group=group).values("member_id")
    active = Member.objects.filter(status=Member.Status.ACTIVE, pk__in=saved)
    return scoped_members(active, user=user)


def group_member_ids(group: MemberGroup, *, user) -> list[int]:
    """Ids of group_members(), in id order."""
    return list(group_members(group, user=user).order_by("pk").values_list("pk", flat=True))


def scope_key(user) -> str:
    """A short name of `user`'s data scope, so a stored count is shown only in the scope it
    was taken in."""
    lookups = store_lookups(user)
    if lookups is None:
        return "none"
    if not lookups:
        return "all"
    return ",".join(f"{k}={v}" for k, v in sorted(lookups.items()))


def group_count_refresh(group: MemberGroup, *, user) -> int:
    """Count the group now (in `user`'s scope) and keep the count on it."""
    count = group_members(group, user=user).order_by().count()
    now = timezone.now()
    MemberGroup.objects.filter(pk=group.pk).update(
        member_count=count, counted_at=now, counted_scope=scope_key(user)
    )
    group.member_count, group.counted_at, group.counted_scope = count, now, scope_key(user)
    return count


def group_count(group: MemberGroup, *, user) -> int:
    """The group's size in `user`'s scope: the stored count if it is fresh and was taken in
    the same scope (a static group's members change only by leaving), else counted now."""
    fresh = group.counted_at is not None and timezone.now() - group.counted_at < COUNT_FRESH
    if fresh and group.counted_scope == scope_key(user) and group.member_count is not None:
        return group.member_count
    return group_count_refresh(group, user=user)


def group_create(
    *, name: str, kind: str, params: dict, actor, description: str = ""
) -> MemberGroup:
    """Save the filter `params` as a group. A static group takes its members now, in the
    actor's scope, with one INSERT … SELECT; a dynamic one only keeps the filter."""
    params = params_clean(params)
    with transaction.atomic():
        group = MemberGroup.objects.create(
            name=name, kind=kind, params=params, description=description, created_by=actor
        )
        if kind == MemberGroup.Kind.STATIC:
            _static_members_insert(group, members_filtered(params, user=actor), actor)
        audit_log(
            actor=actor,
            action="analytics.group.created",
            target=group,
            data={"name": name, "kind": kind, "params": params, "members": group.member_count},
        )
    return group


def group_static_create(*, name: str, members: QuerySet, actor, description: str) -> MemberGroup:
    """A static group of `members` (a queryset another app built, e.g. mining's "bought A,
    not B"), narrowed to the active ones in the actor's scope, taken now in one INSERT …
    SELECT. `description` says how they were chosen: the group has no filter to reopen."""
    with transaction.atomic():
        group = MemberGroup.objects.create(
            name=name,
            kind=MemberGroup.Kind.STATIC,
            params={},
            description=description[:500],
            created_by=actor,
        )
        in_scope = scoped_members(members.filter(status=Member.Status.ACTIVE), user=actor)
        _static_members_insert(group, in_scope, actor)
        audit_log(
            actor=actor,
            action="analytics.group.created",
            target=group,
            data={
                "name": name,
                "kind": group.kind,
                "how": description[:200],
                "members": group.member_count,
            },
        )
    return group


def _static_members_insert(group: MemberGroup, members: QuerySet, actor) -> None:
    sql, sql_params = members.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {GroupMember._meta.db_table} (group_id, member_id) "  # noqa: S608
            f"SELECT DISTINCT %s, m.id FROM ({sql}) AS m(id)",
            [group.pk, *sql_params],
        )
        count = cursor.rowcount
    group.member_count, group.counted_at = count, timezone.now()
    group.counted_scope = scope_key(actor)
    group.save(update_fields=["member_count", "counted_at", "counted_scope"])


def group_archive(*, group: MemberGroup, actor, archived: bool = True) -> MemberGroup:
    """Archive a group (hidden from the list and from sending) or bring it back."""
    if group.archived == archived:
        raise GroupError(
            _("The group is already archived.") if archived else _("The group is not archived.")
        )
    group.archived = archived
    group.save(update_fields=["archived"])
    audit_log(
        actor=actor,
        action="analytics.group.archived" if archived else "analytics.group.restored",
        target=group,
    )
    return group
