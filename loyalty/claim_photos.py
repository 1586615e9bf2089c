"""Receipt-claim photos (拍小票): re-encoded without metadata, stored privately under random
names, handed out only through views that check who asks.

A phone's JPEG carries EXIF: where it was taken (GPS), when, which phone. None of it is
needed to read a receipt, so the upload is decoded, turned upright by its orientation tag
and encoded afresh, which keeps the pixels and drops everything else.
"""

import io
import re
import secrets
import warnings

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.exceptions import ServiceError
from core.storage import PrivateFileSystemStorage

ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP"}
MAX_PIXELS = 50_000_000  # a 48-megapixel phone camera still fits
MAX_SIDE = 3000  # enough to read any receipt; keeps stored photos around a megabyte
JPEG_QUALITY = 85
CONTENT_TYPE = "image/jpeg"
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
    MAX_SIDE pixels a side. Anything that is not a readable photo raises ServiceError."""
    unreadable = ServiceError(
        _("This is not a photo we can read. Please send a photo of the receipt (JPEG or PNG)."),
        code="claim_photo_invalid",
    )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise unreadable
                if image.width * image.height > MAX_PIXELS:
                    raise ServiceError(
                        _("The photo has too many pixels. Please send a smaller one."),
                        code="claim_photo_too_large",
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise unreadable from None
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt data
        raise unreadable from None
    if upright.mode not in ("RGB", "L"):
        upright = _flatten(upright)
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    # No exif= and no icc_profile= here: the new file carries no metadata at all.
    upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return ContentFile(out.getvalue(), name="photo.jpg")


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent pixels on white (a PNG screenshot), palettes and CMYK to RGB."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
