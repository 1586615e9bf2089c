import itertools

import pytest

from loyalty.ledger import points_post
from mall.models import Goods
from tests.members.factories import AddressFactory, MemberFactory, StaffFactory

_seeds = itertools.count(1)


@pytest.fixture(autouse=True)
def _loyalty_defaults(loyalty_defaults):
    """Redemptions spend points earned under the default rules."""


@pytest.fixture
def make_goods(store):
    """A good on the shelf (pickup at `store` unless told otherwise)."""

    def make(*, stores=None, **fields):
        defaults = {"name": "保温杯", "points_price": 100, "stock": 10, "market_price_fen": 5900}
        goods = Goods.objects.create(**(defaults | fields))
        if goods.offers_pickup and goods.kind == Goods.Kind.THING:
            goods.pickup_stores.set(stores if stores is not None else [store])
        return goods

    return make


@pytest.fixture
def goods(make_goods):
    return make_goods()


def give_points(member, points):
    points_post(member_id=member.pk, kind="earn", points=points, key=f"seed:{next(_seeds)}")


@pytest.fixture
def rich(store):
    """A member of `store` with 1000 points and a default delivery address."""
    member = MemberFactory(home_store=store)
    give_points(member, 1000)
    AddressFactory(member=member, is_default=True)
    return member


@pytest.fixture
def staff_user(db):
    """A back-office user of `role`, with a data scope (default: every store)."""

    def make(role, **profile):
        return StaffFactory(user__role=role, **profile).user

    return make
