"""The project's URLs plus views that fail, for the 500 pages (pytest.mark.urls)."""

from django.urls import path

from config.urls import *  # noqa: F403 - the handlers too
from config.urls import urlpatterns as project_urls


def broken(request):
    raise RuntimeError("a bug")


def busy(request):
    """A write core.retry gave up on (the real deadlocks are in tests/core/test_retry.py)."""
    from core.exceptions import DatabaseBusy

    raise DatabaseBusy()


urlpatterns = [
    path("m/broken/", broken),
    path("backoffice/broken/", broken),
    path("m/busy/", busy),
    path("backoffice/busy/", busy),
    path("api/pos/v1/busy", busy),
    *project_urls,
]
