from functools import wraps

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator, never by sign-up."""

    def is_open_for_signup(self, request):
        return False


def is_backoffice_user(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or hasattr(user, "staff_profile")


def backoffice_required(view=None, *, perm: str | None = None):
    """Log in first; then a staff profile (or superuser) and, if given, `perm` are required."""

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not is_backoffice_user(request.user):
                raise PermissionDenied
            if perm and not request.user.has_perm(perm):
                raise PermissionDenied
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view else decorator
