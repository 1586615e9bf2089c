"""The one exception family of the project's services.

Views turn a ServiceError into a form error or a message, the POS API into a 4xx with a JSON
reason. `code` is stable for machines, `message` is translated for people.
"""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    code = "error"
    default_message = _("The operation could not be completed.")

    def __init__(self, message=None, *, code: str | None = None, params: dict | None = None):
        self.code = code or self.code
        template = message if message is not None else self.default_message
        self.message = template % params if params else template
        super().__init__(str(self.message))


class PermissionDenied(ServiceError):
    code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class DatabaseBusy(ServiceError):
    """The database kept refusing the transaction (deadlock, serialization failure) after the
    bounded retries of core.retry: the caller may try again in a moment."""

    code = "database_busy"
    default_message = _("The system is busy. Please try again in a moment.")
