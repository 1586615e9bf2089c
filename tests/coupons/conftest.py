import pytest

from coupons.models import Campaign, CouponTemplate
from tests.loyalty.conftest import (  # noqa: F401 - shared fixtures of the POS API
    PosClient,
    loyalty_defaults,
    member,
    pos,
    store,
    terminal,
)


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(name="双十一", channel=Campaign.Channel.MANUAL)


@pytest.fixture
def make_template(db):
    def make(code="CASH10", **fields):
        defaults = {
            "name": code,
            "kind": CouponTemplate.Kind.CASH,
            "face_value_fen": 1000,
            "valid_days": 30,
        }
        defaults.update(fields)
        return CouponTemplate.objects.create(code=code.lower(), **defaults)

    return make
