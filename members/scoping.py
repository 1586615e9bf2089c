"""The one place that narrows back-office data to a staff member's data scope.

HQ (scope "all") and superusers see everything, a regional manager the stores of their
region, a store manager their own store; a user without a staff profile sees nothing.

A member is in a store's scope when the store is their home store, or when something a
higher app records ties them to it: loyalty registers its receipts, so a store's desk finds
the members who bought there. Members cannot import loyalty, hence the registry.

`scoped` itself lives in stores/scoping.py (the master data's admin narrows by it too) and is
re-exported here; members gives it its rule, `staff_store_lookups`.
"""

from collections.abc import Callable

from django.db.models import Q, QuerySet

from members.models import StaffProfile
from stores.models import Store
from stores.scoping import scoped, store_lookups

__all__ = ["member_store_link_register", "scoped", "scoped_members", "staff_store_lookups"]

# Callables returning a queryset with `member` and `store` foreign keys (loyalty's receipts).
_member_store_links: list[Callable[[], QuerySet]] = []


def member_store_link_register(rows: Callable[[], QuerySet]) -> None:
    """Let `rows()` (with `member` and `store` keys) put members in their stores' scope."""
    if rows not in _member_store_links:
        _member_store_links.append(rows)


def staff_store_lookups(user) -> dict | None:
    """The rule stores/scoping.py applies (registered in members/apps.py): None: no store;
    {}: every store; else the lookups on Store that give the user's."""
    if not (user.is_authenticated and user.is_active):
        return None
    if user.is_superuser:
        return {}
    try:
        # the back office's check already loaded it into the request's user: no query
        profile = user.staff_profile
    except StaffProfile.DoesNotExist:
        return None
    if profile.scope == StaffProfile.Scope.ALL:
        return {}
    if profile.scope == StaffProfile.Scope.REGION:
        return {"region_id": profile.region_id}
    return {"id": profile.store_id}


def scoped_members(queryset: QuerySet, *, user) -> QuerySet:
    """Members of `queryset` in `user`'s scope: their home store is one of the user's stores,
    or a registered link (a receipt) ties them to one."""
    lookups = store_lookups(user)
    if lookups is None:
        return queryset.none()
    if not lookups:
        return queryset
    stores = Store.objects.filter(**lookups).values("pk")
    in_scope = Q(home_store__in=stores)
    for rows in _member_store_links:
        linked = rows().filter(store__in=stores, member__isnull=False).values("member_id")
        in_scope |= Q(pk__in=linked)
    return queryset.filter(in_scope)
