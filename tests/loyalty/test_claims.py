"""拍小票: members claim receipts by photo; staff approve (points) or reject (a reason)."""

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from core.exceptions import ServiceError
from core.models import AuditLog
from core.roles import Role
from loyalty.ledger import ledger_check, points_balance
from loyalty.models import Receipt, ReceiptClaim
from loyalty.services import claim_approve, claim_reject, claim_submit
from members.models import Message
from tests.conftest import once
from tests.members.factories import StaffFactory, signed_in_as
from tests.stores.factories import StoreFactory


def photo(name="receipt.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (60, 120), "white").save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _claim(member, store, receipt_no="A-0001", amount_fen=50_000, **kw):
    return claim_submit(
        member=member,
        store=store,
        receipt_no=receipt_no,
        amount_fen=amount_fen,
        purchased_on=kw.get("purchased_on", timezone.localdate()),
        shop_name="某品牌专柜",
        photo=photo(),
    )


@pytest.fixture
def reviewer(store):
    return StaffFactory(user__role=Role.CUSTOMER_SERVICE, scope="store", store=store).user


def test_an_approved_claim_becomes_a_receipt_earning_points_and_the_member_is_told(
    member, store, reviewer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    claim = _claim(member, store)

    claim_approve(claim=claim, actor=reviewer)

    claim.refresh_from_db()
    assert claim.status == "approved"
    assert claim.receipt.total_fen == 50_000 and claim.receipt.pos_no == "CLAIM"
    assert points_balance(member_id=member.pk) == 500
    assert "500" in Message.objects.get(member=member).body
    assert AuditLog.objects.filter(action="loyalty.claim.approved").count() == 1
    with pytest.raises(ServiceError):
        claim_approve(claim=claim, actor=reviewer)  # reviewed already: nothing twice
    assert points_balance(member_id=member.pk) == 500
    assert ledger_check() == []


def test_a_rejected_claim_says_why_and_the_receipt_can_be_claimed_again(
    member, store, reviewer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    claim = _claim(member, store)
    with pytest.raises(ServiceError):
        claim_reject(claim=claim, reason="  ", actor=reviewer)

    claim_reject(claim=claim, reason="照片模糊，请重新拍摄", actor=reviewer)

    assert "照片模糊" in Message.objects.get(member=member).body
    assert points_balance(member_id=member.pk) == 0
    _claim(member, store)  # a clearer photo of the same receipt


def test_the_same_receipt_cannot_be_claimed_twice(
    member, member_factory, store, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    _claim(member, store, receipt_no="a-0001")
    with pytest.raises(ServiceError):
        _claim(member_factory(), store, receipt_no="A-0001")
    assert ReceiptClaim.objects.count() == 1


def test_a_receipt_the_till_recorded_with_a_member_card_cannot_be_claimed(
    member, member_factory, store, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    Receipt.objects.create(
        store=store,
        pos_no="P1",
        receipt_no="T-1",
        occurred_at=timezone.now(),
        division="department",
        total_fen=100,
        member=member_factory(),
    )
    with pytest.raises(ServiceError):
        _claim(member, store, receipt_no="t-1")


@pytest.mark.parametrize("days_ago", [-1, 31])
def test_claims_for_future_or_old_purchases_are_refused(
    member, store, days_ago, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ServiceError):
        _claim(member, store, purchased_on=timezone.localdate() - timedelta(days=days_ago))


def test_the_member_submits_a_claim_through_the_page(client, member, store, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    signed_in_as(client, member)
    form = {
        "store": store.pk,
        "shop_name": "某品牌专柜",
        "receipt_no": "B-0002",
        "amount": "299.90",
        "purchased_on": timezone.localdate().isoformat(),
    }

    bad = client.post("/m/claims/", {**form, "amount": "-5", "photo": photo()})
    not_image = client.post(
        "/m/claims/", {**form, "photo": SimpleUploadedFile("x.jpg", b"not an image")}
    )
    good = client.post("/m/claims/", {**form, "photo": photo()})

    assert bad.status_code == 400 and not_image.status_code == 400
    assert good.status_code == 302
    claim = ReceiptClaim.objects.get()
    assert (claim.amount_fen, claim.member, claim.status) == (29_990, member, "pending")
    assert 'data-status="pending"' in client.get("/m/claims/").content.decode()


def test_staff_review_claims_of_their_store_only(
    client, member, store, reviewer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    mine = _claim(member, store)
    other_store = StoreFactory(code="S02")
    theirs = _claim(member, other_store, receipt_no="Z-9")
    client.force_login(reviewer)

    queue = client.get("/backoffice/loyalty/claims/").content.decode()
    assert 'data-claim="A-0001"' in queue and 'data-claim="Z-9"' not in queue
    assert client.get(f"/backoffice/loyalty/claims/{theirs.pk}/").status_code == 404
    assert (
        client.post(
            f"/backoffice/loyalty/claims/{theirs.pk}/decide/", {**once(), "decision": "approve"}
        ).status_code
        == 404
    )

    missing_reason = client.post(
        f"/backoffice/loyalty/claims/{mine.pk}/decide/",
        {**once(), "decision": "reject", "reason": ""},
    )
    assert missing_reason.status_code == 400
    client.post(f"/backoffice/loyalty/claims/{mine.pk}/decide/", {**once(), "decision": "approve"})
    assert points_balance(member_id=member.pk) == 500


def test_analysts_cannot_review_claims(client, store):
    client.force_login(StaffFactory(user__role=Role.ANALYST).user)
    assert client.get("/backoffice/loyalty/claims/").status_code == 403


def test_deleting_the_account_forfeits_points_and_erases_claim_photos(
    member, store, reviewer, settings, tmp_path
):
    from members.data_rights import member_delete

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    claim = _claim(member, store)
    claim_approve(claim=claim, actor=reviewer)
    photo_path = tmp_path / ReceiptClaim.objects.get().photo.name
    assert photo_path.exists()

    member_delete(member_id=member.pk)

    assert points_balance(member_id=member.pk) == 0
    assert not photo_path.exists()
    assert ReceiptClaim.objects.get().photo.name == ""
    assert Receipt.objects.filter(member=member).count() == 1  # kept, without identity
    assert ledger_check() == []


def test_the_claim_form_offers_today_as_an_iso_date_a_date_input_can_show(client, member):
    signed_in_as(client, member)

    page = client.get("/m/claims/").content.decode()

    today = timezone.localdate().isoformat()  # 2026-12-02, never the locale's 2026/12/02
    assert re.search(rf'<input type="date" name="purchased_on" value="{today}"', page), page


def test_members_read_claim_results_in_chinese_whatever_the_reviewers_language(
    member, store, reviewer, settings, tmp_path
):
    from django.utils import translation

    settings.MEDIA_ROOT = tmp_path
    approved, rejected = _claim(member, store, "A-0001"), _claim(member, store, "A-0002")

    with translation.override("en"):
        claim_approve(claim=approved, actor=reviewer)
        claim_reject(claim=rejected, reason="照片模糊", actor=reviewer)

    assert list(Message.objects.order_by("pk").values_list("title", "body")) == [
        ("小票补录已通过", "您的小票 A-0001 已审核通过，获得 500 积分。"),
        ("小票补录未通过", "您的小票 A-0002 未通过审核：照片模糊"),
    ]
