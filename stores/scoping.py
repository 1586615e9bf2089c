"""Staff see the stores of their data scope; this module narrows querysets by it.

Who may see which stores is members' business (a staff profile's scope: HQ, a region or one
store). Members registers that rule here in its AppConfig.ready, so the master data's admin,
which sits below members, narrows by the same rule as every back-office page. Until a rule is
registered nobody sees anything (deny by default).
"""

from collections.abc import Callable

from django.db.models import QuerySet

# user -> None: no store; {}: every store; else lookups on Store that give the user's stores.
_scope_rules: list[Callable[[object], dict | None]] = []


def store_scope_register(rule: Callable[[object], dict | None]) -> None:
    """Make `rule(user)` the one that decides a staff member's stores."""
    _scope_rules[:] = [rule]


def store_lookups(user) -> dict | None:
    """None: no store; {}: every store; else the lookups on Store that give the user's."""
    if not _scope_rules:
        return None
    return _scope_rules[0](user)


def scoped(queryset: QuerySet, *, user, store_field: str) -> QuerySet:
    """`queryset` limited to `user`'s scope; `store_field` leads from the model to its Store
    ("home_store", "store", "floor__store"), or is "" when the model is Store itself."""
    lookups = store_lookups(user)
    if lookups is None:
        return queryset.none()
    prefix = f"{store_field}__" if store_field else ""
    return queryset.filter(**{f"{prefix}{name}": value for name, value in lookups.items()})


class ScopedAdminMixin:
    """Admin lists stay within the user's data scope, like every back-office page."""

    scope_store_field = ""

    def get_queryset(self, request):
        return scoped(
            super().get_queryset(request), user=request.user, store_field=self.scope_store_field
        )
