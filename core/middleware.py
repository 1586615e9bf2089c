import logging

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse, UnreadablePostError

from core.exceptions import DatabaseBusy
from core.views import healthz

logger = logging.getLogger(__name__)


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


NUL = "\x00"


def nul_fields(querydict) -> list[str]:
    """The names of the fields in `querydict` whose name or any value holds a NUL character,
    which Postgres cannot store in text (psycopg refuses the query)."""
    return sorted(
        {
            key.replace(NUL, "\\u0000")
            for key, values in querydict.lists()
            if NUL in key or any(NUL in value for value in values)
        }
    )


class JsonApiMiddleware:
    """Under settings.JSON_API_PREFIX every answer is JSON, whatever goes wrong: an unknown
    path (404), a wrong method (405), a body Django refuses to read, an unhandled exception.
    Tills read `error` (a stable code) and, for a field at fault, `fields`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(settings.JSON_API_PREFIX):
            return self.get_response(request)
        try:
            fields = nul_fields(request.GET)
        except (SuspiciousOperation, BadRequest):  # e.g. more fields than Django reads
            return json_error(400, "bad request")
        if fields:
            return json_error(
                400, "invalid query", {name: "contains a NUL character" for name in fields}
            )
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allow = response.get("Allow")
            response = json_error(response.status_code, _ERRORS.get(response.status_code, "error"))
            if allow:
                response["Allow"] = allow
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(settings.JSON_API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return json_error(413, "body too large")
        if isinstance(exception, SuspiciousOperation | BadRequest | UnreadablePostError):
            return json_error(400, "bad request")
        if isinstance(exception, Http404):
            return json_error(404, "not_found")
        if isinstance(exception, DjangoPermissionDenied):
            return json_error(403, "forbidden")
        if isinstance(exception, DatabaseBusy):
            response = json_error(503, "database_busy")
            response["Retry-After"] = "1"
            return response
        logger.exception("Unhandled error answering %s %s", request.method, request.path)
        return json_error(500, "internal_error")


class DatabaseBusyMiddleware:
    """A page whose write the database kept aborting (core.retry gave up: DatabaseBusy) is a
    503 saying to try again in a moment, not a 500; views that turn ServiceError into a form
    error show the same message in place."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DatabaseBusy):
            return None
        if request.path.startswith(settings.JSON_API_PREFIX):
            return None  # JsonApiMiddleware answers it as JSON
        from core.errors import error_503

        return error_503(request)


class NulRefusalMiddleware:
    """A page request whose query or form fields hold a NUL character is a 400 (the JSON API
    answers its own, through JsonApiMiddleware): no view has to guard every field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(settings.JSON_API_PREFIX):
            return self.get_response(request)
        fields = nul_fields(request.GET)
        if request.method == "POST":
            fields += nul_fields(request.POST)
        if fields:
            raise BadRequest(f"NUL character in {', '.join(fields)}")
        return self.get_response(request)


_ERRORS = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body too large",
    429: "too_many_requests",
}


def json_error(status: int, error: str, fields: dict | None = None) -> JsonResponse:
    body = {"error": error}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
