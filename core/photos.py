"""Photos members upload (receipt claims, feedback tickets): accepted only when they are a
real picture and nothing else, then re-encoded without metadata.

A phone's JPEG carries EXIF: where it was taken (GPS), when, which phone. The upload is
decoded, turned upright by its orientation tag and encoded afresh, which keeps the pixels
and drops everything else. Before that, a file that is a picture AND something else (a ZIP
or a web page appended to a JPEG, an archive hidden in a comment: a polyglot) is refused,
so no copy of the original bytes is ever kept or handed on.
"""

import io
import re
import warnings
import zipfile

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.exceptions import ServiceError

ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP"}
MAX_PIXELS = 50_000_000  # a 48-megapixel phone camera still fits
JPEG_QUALITY = 85
CONTENT_TYPE = "image/jpeg"

# Markup or scripts a browser or an interpreter would find in the bytes.
_FOREIGN = re.compile(
    rb"<\s*(?:html|script|body|iframe|svg|object|embed|!doctype)|<\?php|%PDF-",
    re.IGNORECASE,
)
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


class PhotoRejected(ServiceError):
    code = "photo_invalid"
    default_message = _("This is not a photo we can read. Please send a JPEG or PNG photo.")


def photo_clean(upload, *, max_side: int, max_bytes: int | None = None) -> ContentFile:
    """The upload re-encoded as a JPEG without EXIF (GPS, time, device), upright, at most
    `max_side` pixels a side. A file over `max_bytes`, not a picture, or a picture that is
    also something else raises PhotoRejected (its code says which)."""
    size = getattr(upload, "size", None)
    if max_bytes is not None and size is not None and size > max_bytes:
        raise _too_big(max_bytes)
    upload.seek(0)
    data = upload.read(max_bytes + 1) if max_bytes is not None else upload.read()
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_big(max_bytes)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise PhotoRejected()
                if image.width * image.height > MAX_PIXELS:
                    raise PhotoRejected(
                        _("The photo has too many pixels. Please send a smaller one."),
                        code="photo_too_many_pixels",
                    )
                fmt = image.format
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected() from None
    except (OSError, ValueError, SyntaxError):  # truncated or corrupt data
        raise PhotoRejected() from None
    if photo_is_polyglot(data, fmt):
        raise PhotoRejected(
            _(
                "This file holds something besides the picture (an archive or a web page)."
                " Please send the photo itself."
            ),
            code="photo_polyglot",
        )
    if upright.mode not in ("RGB", "L"):
        upright = _flatten(upright)
    upright.thumbnail((max_side, max_side))
    out = io.BytesIO()
    # No exif= and no icc_profile= here: the new file carries no metadata at all.
    upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return ContentFile(out.getvalue(), name="photo.jpg")


def photo_is_polyglot(data: bytes, fmt: str) -> bool:
    """True when the bytes of a picture in format `fmt` also hold something else: data after
    the picture's end, an archive (ZIP, and so DOCX, JAR, APK), markup or a PDF."""
    if _FOREIGN.search(data):
        return True
    if zipfile.is_zipfile(io.BytesIO(data)):
        return True
    body = data.rstrip(b"\x00")  # some cameras pad their files with zeros
    if fmt in ("JPEG", "MPO"):
        return not body.endswith(b"\xff\xd9")
    if fmt == "PNG":
        return not body.endswith(_PNG_END)
    if fmt == "GIF":
        return not body.endswith(b"\x3b")
    if fmt == "WEBP":
        declared = int.from_bytes(data[4:8], "little") + 8
        return len(data) > declared + 1  # RIFF pads odd sizes with one byte
    if fmt == "BMP":
        declared = int.from_bytes(data[2:6], "little")
        return declared != 0 and len(body) > declared
    return False


def _too_big(max_bytes: int) -> PhotoRejected:
    return PhotoRejected(
        _("The photo is too large: at most %(megabytes)s MB."),
        code="photo_too_large",
        params={"megabytes": f"{max_bytes / (1024 * 1024):g}"},
    )


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent pixels on white (a PNG screenshot), palettes and CMYK to RGB."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
