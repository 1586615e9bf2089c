"""The project's URLs plus views that fail, for the 500 pages (pytest.mark.urls)."""

from django.urls import path

from config.urls import *  # noqa: F403 - the handlers too
from config.urls import urlpatterns as project_urls


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("m/broken/", broken),
    path("backoffice/broken/", broken),
    *project_urls,
]
