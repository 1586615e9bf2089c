"""400, 403, 404, 500 and 503 pages in Chinese, in the shell of the part of the site that
failed: the member pages' (WeUI) under /m/, the back office's everywhere else.

Rendered without the request's context processors: a 500 may come from a database that is
down, and these pages must not need one."""

from django.conf import settings
from django.http import HttpResponse
from django.template import loader
from django.utils import translation
from django.utils.translation import gettext as _

MEMBER_PREFIX = "/m/"


def _page(request, status: int) -> HttpResponse:
    texts = {
        400: (_("Bad request"), _("The page could not read what was sent. Go back and try again.")),
        403: (_("No access"), _("You do not have permission to open this page.")),
        404: (_("Page not found"), _("This page does not exist or has been removed.")),
        500: (_("Something went wrong"), _("Sorry, the system has a problem. Try again later.")),
        503: (_("System busy"), _("The system is busy. Please try again in a moment.")),
    }
    shell = "h5" if request.path.startswith(MEMBER_PREFIX) else "backoffice"
    title, text = texts[status]
    context = {
        "status": status,
        "title": title,
        "text": text,
        "MALL_NAME": settings.MALL_NAME,
        "hide_tabbar": True,
    }
    return HttpResponse(loader.render_to_string(f"{shell}/error.html", context), status=status)


def error_400(request, exception=None):
    return _page(request, 400)


def error_403(request, exception=None):
    return _page(request, 403)


def error_404(request, exception=None):
    return _page(request, 404)


def error_503(request):
    """The database kept aborting the write (core.exceptions.DatabaseBusy)."""
    response = _page(request, 503)
    response["Retry-After"] = "1"
    return response


def error_500(request):
    with translation.override(settings.LANGUAGE_CODE):
        try:
            return _page(request, 500)
        except Exception:  # the error page itself must not fail
            return HttpResponse(
                f"<!DOCTYPE html><meta charset='utf-8'><h1>{_('Something went wrong')}</h1>",
                status=500,
            )
