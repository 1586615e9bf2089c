"""Receipt-claim photos: stripped of EXIF, stored privately under random names, shown only
to the member who sent them and to reviewing staff of that store; a daily limit per member."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import ExifTags, Image

from core.roles import Role
from loyalty.models import LoyaltySettings, ReceiptClaim
from loyalty.services import claim_submit
from tests.members.factories import StaffFactory, signed_in_as
from tests.stores.factories import StoreFactory

RANDOM_NAME = re.compile(r"claims/[0-9a-f]{32}\.jpg")


@pytest.fixture
def roots(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT


def jpeg_with_gps(name="张三的小票.jpg", *, padding=0) -> SimpleUploadedFile:
    """A 60×120 phone photo taken rotated (orientation 6) with its GPS position in EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TestPhone"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (30.0, 15.0, 7.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (120.0, 10.0, 3.0),
        }
    )
    buffer = io.BytesIO()
    Image.new("RGB", (60, 120), "white").save(buffer, "JPEG", exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue() + b"\0" * padding, content_type="image/jpeg")


def submit(member, store, receipt_no="A-0001", photo=None) -> ReceiptClaim:
    return claim_submit(
        member=member,
        store=store,
        receipt_no=receipt_no,
        amount_fen=50_000,
        purchased_on=timezone.localdate(),
        shop_name="某品牌专柜",
        photo=photo or jpeg_with_gps(),
    )


def form(store, receipt_no, photo):
    return {
        "store": store.pk,
        "shop_name": "某品牌专柜",
        "receipt_no": receipt_no,
        "amount": "299.90",
        "purchased_on": timezone.localdate().isoformat(),
        "photo": photo,
    }


def stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_an_uploaded_photo_loses_its_exif_and_gps_and_is_turned_upright(member, store, roots):
    media, private = roots
    assert Image.open(jpeg_with_gps()).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input

    claim = submit(member, store)

    path = private / claim.photo.name
    data = path.read_bytes()
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert image.size == (120, 60)  # orientation 6 applied before the tag went
    assert b"Exif" not in data and b"TestPhone" not in data
    assert stored_files(media) == []  # nothing under what serves /media/


def test_photo_names_are_random_and_keep_nothing_of_the_original(member, store, roots):
    first = submit(member, store, receipt_no="A-0001")
    second = submit(member, store, receipt_no="A-0002")

    for claim in (first, second):
        assert RANDOM_NAME.fullmatch(claim.photo.name), claim.photo.name
        assert "张三" not in claim.photo.name and "小票" not in claim.photo.name
    assert first.photo.name != second.photo.name
    assert not re.search(r"\d{4}/\d{2}", first.photo.name)  # no date to enumerate by


def test_the_member_sees_their_own_photo_and_nobody_else_does(
    client, member, member_factory, store, roots
):
    claim = submit(member, store)
    url = f"/m/claims/{claim.pk}/photo/"

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/m/" in anonymous["Location"]

    signed_in_as(client, member)
    own = client.get(url)
    assert own.status_code == 200 and own["Content-Type"] == "image/jpeg"
    assert "no-store" in own["Cache-Control"]
    assert b"".join(own.streaming_content).startswith(b"\xff\xd8")
    assert url in client.get("/m/claims/").content.decode()

    signed_in_as(client, member_factory(), openid="o_b")
    assert client.get(url).status_code == 404


def test_staff_see_photos_of_claims_in_their_stores_only(client, member, store, roots):
    other_store = StoreFactory(code="S02")
    claim = submit(member, store)
    url = f"/backoffice/loyalty/claims/{claim.pk}/photo/"

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]

    client.force_login(
        StaffFactory(user__role=Role.CUSTOMER_SERVICE, scope="store", store=other_store).user
    )
    assert client.get(url).status_code == 404

    client.force_login(StaffFactory(user__role=Role.ANALYST, scope="all").user)
    assert client.get(url).status_code == 403

    client.force_login(
        StaffFactory(user__role=Role.CUSTOMER_SERVICE, scope="store", store=store).user
    )
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    detail = client.get(f"/backoffice/loyalty/claims/{claim.pk}/").content.decode()
    assert f'src="{url}"' in detail and "/media/" not in detail


def test_a_member_over_the_daily_limit_gets_a_form_error_and_nothing_is_stored(
    client, member, store, roots
):
    _media, private = roots
    policy = LoyaltySettings.current()
    policy.claims_per_day = 2
    policy.save()
    signed_in_as(client, member)

    for number in ("Q-0001", "Q-0002"):
        assert client.post("/m/claims/", form(store, number, jpeg_with_gps())).status_code == 302
    refused = client.post("/m/claims/", form(store, "Q-0003", jpeg_with_gps()))

    assert refused.status_code == 400
    assert "2" in refused.context["form"].non_field_errors()[0]
    assert ReceiptClaim.objects.filter(member=member).count() == 2
    assert len(stored_files(private)) == 2


def test_non_images_and_oversized_files_are_form_errors(client, member, store, roots):
    _media, private = roots
    signed_in_as(client, member)

    text = client.post(
        "/m/claims/", form(store, "N-0001", SimpleUploadedFile("a.jpg", b"GPS 30.1,120.2"))
    )
    oversized = client.post(
        "/m/claims/", form(store, "N-0002", jpeg_with_gps(padding=8 * 1024 * 1024))
    )

    assert text.status_code == 400 and text.context["form"].errors["photo"]
    assert oversized.status_code == 400 and oversized.context["form"].errors["photo"]
    assert ReceiptClaim.objects.count() == 0 and stored_files(private) == []


def test_photos_stored_the_old_way_are_moved_renamed_and_stripped(member, store, roots):
    media, private = roots
    claim = submit(member, store)
    (private / claim.photo.name).unlink()
    legacy = media / "claims" / "2026" / "11" / "张三的小票.jpg"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(jpeg_with_gps().read())
    ReceiptClaim.objects.filter(pk=claim.pk).update(photo="claims/2026/11/张三的小票.jpg")
    out = io.StringIO()

    call_command("claim_photos_secure", stdout=out)

    claim.refresh_from_db()
    assert "moved=1" in out.getvalue()
    assert RANDOM_NAME.fullmatch(claim.photo.name) and not legacy.exists()
    with Image.open(private / claim.photo.name) as image:
        assert dict(image.getexif()) == {}
    call_command("claim_photos_secure", stdout=out)
    assert "moved=0 private=1" in out.getvalue()


def test_deleting_an_account_erases_photos_not_yet_moved_too(member, store, roots):
    from members.data_rights import member_delete

    media, private = roots
    claim = submit(member, store)
    legacy = media / "claims" / "2026" / "11" / "receipt.jpg"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes((private / claim.photo.name).read_bytes())
    (private / claim.photo.name).unlink()
    ReceiptClaim.objects.filter(pk=claim.pk).update(photo="claims/2026/11/receipt.jpg")

    member_delete(member_id=member.pk)

    assert not legacy.exists() and stored_files(media) == stored_files(private) == []
    assert ReceiptClaim.objects.get().photo.name == ""


def test_a_photo_of_too_many_pixels_is_an_error_on_the_photo_field(client, member, store, roots):
    _media, private = roots
    signed_in_as(client, member)
    buffer = io.BytesIO()
    Image.new("1", (7200, 7200), 1).save(buffer, "PNG")  # 52 megapixels, a small file
    huge = SimpleUploadedFile("huge.png", buffer.getvalue(), content_type="image/png")

    response = client.post("/m/claims/", form(store, "H-0001", huge))

    assert response.status_code == 400
    assert "像素" in response.context["form"].errors["photo"][0]
    assert ReceiptClaim.objects.count() == 0 and stored_files(private) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_claims_sent_at_once_from_several_tabs_stay_within_the_daily_limit(member, store, roots):
    from core.exceptions import ServiceError
    from tests.loyalty.test_ledger_races import _race

    _media, private = roots
    policy = LoyaltySettings.current()
    policy.claims_per_day = 3
    policy.save()

    results = _race(8, lambda i: submit(member, store, receipt_no=f"R-{i:04d}"))

    assert sum(isinstance(r, ReceiptClaim) for r in results) == 3
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(refused) == 5 and {r.code for r in refused} == {"claim_quota"}
    assert ReceiptClaim.objects.count() == 3 and len(stored_files(private)) == 3
