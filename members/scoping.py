"""The one place that narrows back-office data to a staff member's data scope.

HQ (scope "all") and superusers see everything, a regional manager the stores of their
region, a store manager their own store; a user without a staff profile sees nothing.
"""

from django.db.models import QuerySet

from members.models import StaffProfile


def scoped(queryset: QuerySet, *, user, store_field: str) -> QuerySet:
    """`queryset` limited to `user`'s scope; `store_field` leads from the model to its Store
    ("home_store", "store", "floor__store"), or is "" when the model is Store itself."""
    if not (user.is_authenticated and user.is_active):
        return queryset.none()
    if user.is_superuser:
        return queryset
    profile = StaffProfile.objects.filter(user=user).only("scope", "region", "store").first()
    if profile is None:
        return queryset.none()
    prefix = f"{store_field}__" if store_field else ""
    if profile.scope == StaffProfile.Scope.ALL:
        return queryset
    if profile.scope == StaffProfile.Scope.REGION:
        return queryset.filter(**{f"{prefix}region_id": profile.region_id})
    return queryset.filter(**{f"{prefix}id": profile.store_id})
