"""Why a coupon cannot be used: one list of reasons, each a ServiceError with its words, the
same for the till, the desk and the receipts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import ServiceError
from coupons.redeeming import coupon_refusal, coupon_use
from coupons.rules import REFUSALS, VERIFY_REFUSALS, Refusal
from pos.openapi import pos_openapi


def test_every_refusal_is_a_service_error_with_its_code_and_words():
    for reason, words in REFUSALS.items():
        refusal = Refusal(reason)
        assert isinstance(refusal, ServiceError)
        assert (refusal.reason, refusal.code, refusal.message) == (reason, reason, words)


def test_the_verify_call_documents_every_reason_it_can_answer():
    verify = pos_openapi()["paths"]["/coupons/verify"]["post"]
    schema = verify["responses"]["409"]["content"]["application/json"]["schema"]
    assert schema["properties"]["error"]["enum"] == VERIFY_REFUSALS
    assert set(VERIFY_REFUSALS) == set(REFUSALS) - {"not_stackable"}


@pytest.mark.parametrize(
    "state, reason",
    [("unused", None), ("used", "already_used"), ("voided", "voided"), ("expired", "expired")],
)
def test_the_desk_sees_the_refusal_the_till_would_get(make_coupon, member, store, state, reason):
    coupon = make_coupon(member, kind="gift", gift_name="雨伞", state=state)

    refused = coupon_refusal(coupon=coupon)

    assert (refused.reason if refused else None) == reason
    if reason is not None:
        with pytest.raises(Refusal) as raised:
            coupon_use(
                code=coupon.code, store=store, pos_no="P01", member=member, basket_fen=0, lines=[]
            )
        assert raised.value.reason == reason and raised.value.message == refused.message


def test_a_coupon_not_valid_yet_is_refused_alike(make_coupon, member, store):
    now = timezone.now()
    coupon = make_coupon(
        member, valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=5)
    )
    assert coupon_refusal(coupon=coupon, now=now).reason == "not_yet_valid"
    assert coupon_refusal(coupon=coupon, now=now + timedelta(days=2)) is None
