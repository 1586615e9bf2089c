"""Ticket photos: cleaned by core/photos.py (real pictures only, no EXIF, no polyglots),
stored outside MEDIA_ROOT under random names, handed out only by views that check who asks."""

import secrets

from django.core.files.base import ContentFile

from core.photos import CONTENT_TYPE, photo_clean
from core.storage import PrivateFileSystemStorage

__all__ = ["CONTENT_TYPE", "ticket_photo_clean", "ticket_photo_name", "ticket_photo_storage"]

MAX_SIDE = 2400  # enough to see a damaged item or a shelf label

_storage = PrivateFileSystemStorage()


def ticket_photo_storage() -> PrivateFileSystemStorage:
    """The private storage of ticket photos (a callable, so migrations do not freeze a path)."""
    return _storage


def ticket_photo_name(instance=None, filename: str = "") -> str:
    """A random, unguessable name; the member's own file name is never kept."""
    return f"feedback/{secrets.token_hex(16)}.jpg"


def ticket_photo_clean(upload, *, max_bytes: int) -> ContentFile:
    """The upload as a JPEG without metadata; PhotoRejected (a ServiceError with a reason) for
    a file over `max_bytes` (the desk's policy, FeedbackSettings.photo_max_bytes), a
    non-picture or a polyglot."""
    return photo_clean(upload, max_side=MAX_SIDE, max_bytes=max_bytes)
