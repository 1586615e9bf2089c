from functools import wraps

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from core.client_ip import client_ip


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator, never by sign-up."""

    def is_open_for_signup(self, request):
        return False

    def get_client_ip(self, request):
        # allauth's rate limits (login_failed per IP) and its lockout key use the same client
        # address as the SMS limits and the audit log, behind TRUSTED_PROXY_COUNT proxies.
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth counts failed logins per account ("5/5m/key" in ACCOUNT_RATE_LIMITS); keyed
        # by account and client IP instead, someone guessing from elsewhere cannot lock an
        # HQ administrator out (RELIABILITY W5). The per-IP limit still stops the guesser.
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{self.get_client_ip(request)}"


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
