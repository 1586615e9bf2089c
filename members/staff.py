"""Who may give a staff account which role (Django group) and data scope: the one service the
admin uses for both, audited.

Nobody changes their own role or scope, and nobody grants more than they hold: a role whose
permissions they lack, or a scope wider than their own. Only superusers make superusers, and
only superusers change a superuser's account.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.exceptions import PermissionDenied
from core.roles import Role
from members.models import StaffProfile
from stores.models import Region, Store


def _role_of(user) -> str:
    names = set(user.groups.values_list("name", flat=True)) if user.pk else set()
    return next((role.value for role in Role if role.value in names), "")


def _access_of(profile: StaffProfile | None, role: str) -> dict:
    if profile is None:
        return {"role": role, "scope": "", "region": None, "store": None}
    return {
        "role": role,
        "scope": profile.scope,
        "region": profile.region_id,
        "store": profile.store_id,
    }


def _covers(actor_profile: StaffProfile, *, scope: str, region: Region | None, store) -> bool:
    if actor_profile.scope == StaffProfile.Scope.ALL:
        return True
    if actor_profile.scope == StaffProfile.Scope.REGION:
        if scope == StaffProfile.Scope.REGION:
            return region is not None and region.pk == actor_profile.region_id
        if scope == StaffProfile.Scope.STORE:
            return store is not None and store.region_id == actor_profile.region_id
        return False
    return (
        scope == StaffProfile.Scope.STORE
        and store is not None
        and store.pk == actor_profile.store_id
    )


def staff_access_check(
    *, actor, user, role: str, scope: str, region: Region | None, store: Store | None
) -> bool:
    """Raise PermissionDenied unless `actor` may give `user` this role and scope; True if it
    changes anything."""
    profile = StaffProfile.objects.filter(user=user).first() if user.pk else None
    before = _access_of(profile, _role_of(user))
    after = {
        "role": role,
        "scope": scope,
        "region": region.pk if region else None,
        "store": store.pk if store else None,
    }
    if before == after:
        return False
    if user.pk and user.pk == actor.pk:
        raise PermissionDenied(
            _("Nobody can change their own role or data scope; ask another administrator.")
        )
    if actor.is_superuser:
        return True
    actor_profile = StaffProfile.objects.filter(user=actor).first()
    if not actor.has_perm("auth.change_user") or actor_profile is None or user.is_superuser:
        raise PermissionDenied(_("You are not allowed to change this account's access."))
    if role:
        granted = Permission.objects.filter(group__name=role).select_related("content_type")
        held = actor.get_all_permissions()
        if any(f"{p.content_type.app_label}.{p.codename}" not in held for p in granted):
            raise PermissionDenied(
                _("You cannot grant the role %(role)s: it holds permissions you do not have."),
                params={"role": Role(role).label},
            )
    if not _covers(actor_profile, scope=scope, region=region, store=store):
        raise PermissionDenied(_("You cannot grant a data scope wider than your own."))
    return True


@transaction.atomic
def staff_access_set(
    *,
    actor,
    profile: StaffProfile,
    role: str,
    scope: str,
    region: Region | None = None,
    store: Store | None = None,
) -> StaffProfile:
    """Save `profile` (its other fields as given) with this role and scope, after
    staff_access_check, and write an audit row when the access changed. Locks the user row."""
    user = type(profile.user).objects.select_for_update().get(pk=profile.user_id)
    stored = StaffProfile.objects.filter(pk=profile.pk).first() if profile.pk else None
    before = _access_of(stored, _role_of(user))
    changed = staff_access_check(
        actor=actor, user=user, role=role, scope=scope, region=region, store=store
    )
    profile.scope, profile.region, profile.store = scope, region, store
    profile.full_clean(exclude=["user", "photo"])
    profile.save()
    if changed:
        role_groups = Group.objects.filter(name__in=[r.value for r in Role])
        user.groups.remove(*role_groups.exclude(name=role))
        if role:
            user.groups.add(Group.objects.get(name=role))
        audit_log(
            actor=actor,
            action="members.staff.access_changed",
            target=profile,
            data={"user": user.username, "before": before, "after": _access_of(profile, role)},
        )
    return profile


@transaction.atomic
def user_superuser_set(*, actor, user, is_superuser: bool) -> None:
    """Grant or revoke superuser status; superusers only, never their own, audited."""
    if not actor.is_superuser:
        raise PermissionDenied(_("Only superusers can grant or revoke superuser status."))
    if user.pk == actor.pk:
        raise PermissionDenied(_("Nobody can change their own superuser status."))
    type(user).objects.filter(pk=user.pk).update(is_superuser=is_superuser)
    user.is_superuser = is_superuser
    audit_log(
        actor=actor,
        action="auth.user.superuser_granted" if is_superuser else "auth.user.superuser_revoked",
        target=user,
        data={"user": user.username},
    )
