"""Ticket photos (core/photos.py, shared with receipt claims): real pictures only, within the
size limit, never a polyglot; what is stored has no EXIF, a random name, and sits outside
MEDIA_ROOT."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, PngImagePlugin

from core.photos import PhotoRejected
from feedback.photos import ticket_photo_clean
from loyalty.claim_photos import claim_photo_clean

MB = 1024 * 1024


@pytest.fixture
def roots(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT


def jpeg_bytes(*, gps=True, size=(80, 60)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(
            {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 15.0, 7.0)}
        )
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def image_bytes(fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(buffer, fmt, **params)
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buffer.getvalue()


def upload(data: bytes, name="照片.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def refused(data: bytes, *, max_bytes=5 * MB) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as info:
        ticket_photo_clean(upload(data), max_bytes=max_bytes)
    assert re.search(r"[\u4e00-\u9fff]", str(info.value))  # a reason in Chinese
    return info.value


@pytest.mark.parametrize(
    "data",
    [b"just some text, not a picture", b"%PDF-1.7\n", b"PK\x03\x04" + b"\0" * 40, b""],
    ids=["text", "pdf", "zip", "empty"],
)
def test_a_file_that_is_not_a_picture_is_refused(data):
    assert refused(data).code == "photo_invalid"


def test_a_file_over_the_limit_is_refused_before_it_is_decoded():
    error = refused(jpeg_bytes() + b"\0" * MB, max_bytes=MB)
    assert error.code == "photo_too_large" and "1 MB" in str(error)


def comment_segment(payload: bytes) -> bytes:
    return b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload


def png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return image_bytes("PNG", pnginfo=info)


@pytest.mark.parametrize(
    "data",
    [
        jpeg_bytes() + zip_bytes(),
        jpeg_bytes() + b"<html><body><script>alert(document.cookie)</script></body></html>",
        jpeg_bytes() + b"\x00" * 10 + b"MZ\x90\x00 an executable appended",
        # an archive inside the picture: the JPEG still ends where it should
        jpeg_bytes()[:2] + comment_segment(zip_bytes()) + jpeg_bytes()[2:],
        png_with_text("<svg onload=alert(1)>"),
        image_bytes("PNG") + b"<?php system($_GET['c']); ?>",
        image_bytes("GIF") + b"/*payload*/=1;alert(1)",
    ],
    ids=[
        "jpeg+zip",
        "jpeg+html",
        "jpeg+exe",
        "zip-in-jpeg-comment",
        "png-svg",
        "png+php",
        "gif+js",
    ],
)
def test_a_picture_that_is_also_something_else_is_refused(data):
    Image.open(io.BytesIO(data)).load()  # each one is a picture Pillow reads
    assert refused(data).code == "photo_polyglot"


def test_claim_photos_refuse_polyglots_too():
    with pytest.raises(Exception) as info:
        claim_photo_clean(upload(jpeg_bytes() + zip_bytes()))
    assert info.value.code == "claim_photo_polyglot"


@pytest.mark.parametrize(
    "data",
    [
        jpeg_bytes(),
        jpeg_bytes() + b"\0" * 4096,  # padded by the camera
        image_bytes("PNG"),
        image_bytes("GIF"),
        image_bytes("WEBP"),
        image_bytes("BMP"),
    ],
    ids=["jpeg", "padded-jpeg", "png", "gif", "webp", "bmp"],
)
def test_ordinary_pictures_are_accepted(data):
    cleaned = ticket_photo_clean(upload(data), max_bytes=5 * MB)
    assert Image.open(cleaned).format == "JPEG"


@pytest.mark.django_db
def test_a_submitted_photo_is_stored_privately_without_exif(submit, roots):
    media, private = roots
    raw = jpeg_bytes(size=(640, 480))
    assert Image.open(io.BytesIO(raw)).getexif()  # the input carries EXIF with GPS

    ticket = submit(photos=[ticket_photo_clean(upload(raw), max_bytes=5 * MB)])

    photo = ticket.photos.get()
    assert re.fullmatch(r"feedback/[0-9a-f]{32}\.jpg", photo.image.name)
    path = private / photo.image.name
    assert path.is_file()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    stored = Image.open(path)
    assert stored.size == (640, 480)
    assert not stored.getexif() and "exif" not in stored.info
    assert b"TestPhone" not in path.read_bytes()
    with pytest.raises(ValueError):
        photo.image.url  # noqa: B018 - private files have no address
