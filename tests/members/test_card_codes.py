from datetime import timedelta

import pytest
from django.utils import timezone

from members.card_codes import card_code_issue, card_code_resolve
from members.models import Member
from tests.members.factories import MemberFactory, signed_in_as

pytestmark = pytest.mark.django_db


def test_a_code_stands_for_its_member_for_ninety_seconds(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    member = MemberFactory()
    code = card_code_issue(member=member).code
    assert len(code) == 18 and code.startswith("66") and code.isdigit()
    assert card_code_resolve(code=code) == member
    time_machine.shift(timedelta(seconds=89))
    assert card_code_resolve(code=code) == member
    time_machine.shift(timedelta(seconds=2))
    assert card_code_resolve(code=code) is None


def test_codes_differ_each_time_and_bad_ones_resolve_to_nothing():
    member = MemberFactory()
    codes = {card_code_issue(member=member).code for _ in range(20)}
    assert len(codes) == 20
    for bad in ["", "66", "6612345678901234567", "abcdefghijklmnopqr", "660000000000000000"]:
        assert card_code_resolve(code=bad) is None


def test_a_closed_membership_does_not_resolve():
    member = MemberFactory()
    code = card_code_issue(member=member).code
    Member.objects.filter(pk=member.pk).update(status=Member.Status.CLOSED)
    assert card_code_resolve(code=code) is None


def test_the_card_page_and_code_endpoint_show_only_the_own_code(client):
    me, other = MemberFactory(), MemberFactory()
    signed_in_as(client, me)
    page = client.get("/m/card/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    data = client.get("/m/card/code/").json()
    assert card_code_resolve(code=data["code"]) == me
    assert data["qr_svg"].startswith("<svg") and data["barcode_svg"].startswith("<svg")
    # Parameters naming someone else change nothing.
    tampered = client.get(f"/m/card/code/?member={other.pk}&card_no={other.card_no}").json()
    assert card_code_resolve(code=tampered["code"]) == me


def test_the_code_endpoint_needs_a_signed_in_member(client):
    assert client.get("/m/card/code/").status_code == 302


def test_the_barcode_draws_exactly_the_code128_modules():
    """The path's bars, read back module by module, are python-barcode's Code 128 symbol."""
    import re

    from members.card_codes import barcode_modules, barcode_svg

    for code in ("660000000000000001", "661234567890123456", "PM8K2Q"):
        svg = barcode_svg(code)
        drawn = ["0"] * len(barcode_modules(code))
        for x, width in re.findall(r"M(\d+) 0h(\d+)v1h-\d+z", svg):
            drawn[int(x) : int(x) + int(width)] = "1" * int(width)
        assert "".join(drawn) == barcode_modules(code)
        assert svg.startswith("<svg") and 'width="' in svg and "mm" in svg
