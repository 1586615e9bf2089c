from core.views import healthz


class HealthCheckMiddleware:
    """Answer /healthz before host validation and the HTTPS redirect.

    Load balancers and container health checks call it by IP over plain HTTP; it reveals no
    data, so it needs neither an allowed Host header nor TLS.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)


class StaffMfaMiddleware:
    """Staff of the roles in settings.STAFF_MFA_ROLES (and superusers, when any role is listed)
    set up two-factor sign-in before they may use the back office or the admin."""

    GUARDED = ("/backoffice/", "/admin/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.GUARDED) and self._must_set_up(request.user):
            from django.contrib import messages
            from django.shortcuts import redirect
            from django.utils.translation import gettext as _

            messages.info(
                request, _("Please set up two-factor sign-in before using the back office.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_set_up(user) -> bool:
        from allauth.mfa.models import Authenticator
        from django.conf import settings

        roles = settings.STAFF_MFA_ROLES
        if not roles or not user.is_authenticated:
            return False
        if not (user.is_superuser or user.groups.filter(name__in=roles).exists()):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
