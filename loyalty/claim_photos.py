"""Receipt-claim photos (拍小票): re-encoded without metadata, stored privately under random
names, handed out only through views that check who asks.

A phone's JPEG carries EXIF: where it was taken (GPS), when, which phone. None of it is
needed to read a receipt, so the upload is decoded, turned upright by its orientation tag
and encoded afresh, which keeps the pixels and drops everything else.
"""

import re
import secrets

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from core.photos import CONTENT_TYPE, PhotoRejected, photo_clean
from core.storage import PrivateFileSystemStorage

__all__ = [
    "CONTENT_TYPE",
    "claim_photo_clean",
    "claim_photo_is_private",
    "claim_photo_name",
    "claim_photo_storage",
]

MAX_SIDE = 3000  # enough to read any receipt; keeps stored photos around a megabyte
PRIVATE_NAME = re.compile(r"claims/[0-9a-f]{32}\.jpg")

_storage = PrivateFileSystemStorage()


def claim_photo_storage() -> PrivateFileSystemStorage:
    """The private storage of claim photos (a callable, so migrations do not freeze a path)."""
    return _storage


def claim_photo_name(instance=None, filename: str = "") -> str:
    """A random, unguessable name; the member's own file name is never kept."""
    return f"claims/{secrets.token_hex(16)}.jpg"


def claim_photo_is_private(fieldfile) -> bool:
    """True for a photo stored the current way: a random name in the private storage."""
    return bool(PRIVATE_NAME.fullmatch(fieldfile.name)) and _storage.exists(fieldfile.name)


def claim_photo_clean(upload) -> ContentFile:
    """The upload re-encoded as a JPEG without EXIF (GPS, time, device), upright, at most
    MAX_SIDE pixels a side (core/photos.py). Anything that is not a readable photo, or is a
    photo and something else, raises ServiceError with a "claim_photo_…" code."""
    try:
        return photo_clean(upload, max_side=MAX_SIDE)
    except PhotoRejected as exc:
        message = (
            _("This is not a photo we can read. Please send a photo of the receipt (JPEG or PNG).")
            if exc.code == "photo_invalid"
            else exc.message
        )
        code = {"photo_too_many_pixels": "claim_photo_too_large"}.get(exc.code, f"claim_{exc.code}")
        raise ServiceError(message, code=code) from None
