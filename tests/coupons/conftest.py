import itertools
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from coupons.issuing import coupon_issue
from coupons.models import Coupon
from coupons.redeeming import coupon_use, coupon_void
from tests.members.factories import StaffFactory


@pytest.fixture(autouse=True)
def _loyalty_defaults(loyalty_defaults):
    """Coupons are used on receipts that earn points: the default tiers and earning rules."""


# --- Pages: coupons in every state, staff of every role ------------------------------------

_template_codes = itertools.count(1)


@pytest.fixture
def make_coupon(make_template, campaign, request):
    """A coupon of a new template (or `template`) for `owner`, issued through the service,
    then moved to the state asked for: used (through coupon_use at store S01), voided
    (through coupon_void), expired, or with its validity set to `valid_from`/`valid_until`."""
    till_store = request.getfixturevalue("store")

    def make(
        owner,
        template=None,
        *,
        state="unused",
        valid_from=None,
        valid_until=None,
        in_campaign=None,
        **fields,
    ):
        template = template or make_template(f"T{next(_template_codes)}", **fields)
        coupon = coupon_issue(template=template, member=owner, campaign=in_campaign or campaign)
        if valid_from or valid_until:
            Coupon.objects.filter(pk=coupon.pk).update(
                valid_from=valid_from or coupon.valid_from,
                valid_until=valid_until or coupon.valid_until,
            )
        if state == "used":
            coupon_use(
                code=coupon.code,
                store=till_store,
                pos_no="P01",
                member=owner,
                basket_fen=100_000,
                lines=[],
            )
        elif state == "voided":
            coupon_void(coupon=coupon, reason="测试作废", actor=None)
        elif state == "expired":
            now = timezone.now()
            Coupon.objects.filter(pk=coupon.pk).update(
                valid_from=now - timedelta(days=30), valid_until=now - timedelta(days=1)
            )
        coupon.refresh_from_db()
        return coupon

    return make


@pytest.fixture
def staff_user(db):
    """A back-office user of `role`, with a data scope (default: every store)."""

    def make(role, **profile):
        return StaffFactory(user__role=role, **profile).user

    return make


class CardAttrs(HTMLParser):
    """The attributes of every element carrying `data-coupon` (the coupon cards)."""

    def __init__(self):
        super().__init__()
        self.cards = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-coupon" in attrs:
            self.cards.append(attrs)


def coupon_cards(html: str) -> list[dict]:
    parser = CardAttrs()
    parser.feed(html)
    return parser.cards
