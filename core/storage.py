"""Files that only a checked view may hand out: kept outside MEDIA_ROOT and without a URL.

Whatever serves MEDIA_ROOT (``static()`` in development, a proxy in front of it) can never
reach them; a view that has checked who is asking streams them with ``private_file_response``.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404


class PrivateFileSystemStorage(FileSystemStorage):
    """FileSystemStorage under ``settings.PRIVATE_MEDIA_ROOT`` (read on each use, so a test's
    override applies); ``url()`` refuses, as no address may lead straight to these files."""

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a checked view.")


def private_file_response(fieldfile, *, content_type: str) -> FileResponse:
    """Stream a private file to a client already allowed to see it: never cached by a shared
    cache, never sniffed into another type; a file missing on disk is a 404."""
    if not fieldfile:
        raise Http404
    try:
        handle = fieldfile.storage.open(fieldfile.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
