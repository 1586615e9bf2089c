"""The mall's existing card numbers (DESIGN.md, "Card numbers"): imported as they are, then
used everywhere a card number is taken: the POS API, coupons, the imports, the back office."""

import io
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from core.roles import Role
from coupons.models import Coupon, CouponTemplate
from loyalty.models import Receipt
from members import cards
from members.admin import MemberResource
from members.models import Member, Message
from members.services import member_create
from pos.services import pos_terminal_create
from tests.conftest import PosClient, once, sale
from tests.members.factories import StaffFactory
from tests.stores.factories import StoreFactory

# Receipts earn points: the default tiers and earning rules.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loyalty_defaults")]

MALL_CARDS = ["BARS0001", "00012345", "VIP-2019-000123", "6212345678901234"]
RECEIPTS_HEADER = (
    "store,pos_no,receipt_no,occurred_at,card_no,sku,name,spec,brand,category,qty,amount_fen,"
    "non_merchandise,refund_of"
)


def command(name, *args):
    """(stdout, stderr, failed) of a management command."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except CommandError:
        return out.getvalue(), err.getvalue(), True
    return out.getvalue(), err.getvalue(), False


def import_members(tmp_path, rows):
    path = tmp_path / "members.csv"
    lines = ["card_no,phone,name,gender,birthday,registered_at,store", *rows, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return command("import_members", str(path))


@pytest.fixture
def store(db):
    return StoreFactory(code="S01", name="武林旗舰店")


@pytest.fixture
def pos(client, store):
    """A signed till of store S01."""
    return PosClient(client, pos_terminal_create(store=store, name="1F 收银 01"))


@pytest.fixture
def mall_members(tmp_path, store):
    rows = [f"{card},1390000000{i},老会员{i},F,,,S01" for i, card in enumerate(MALL_CARDS)]
    rows.append("bars0001,13900000009,小写卡,M,,,S01")  # another card than BARS0001
    out, err, failed = import_members(tmp_path, rows)
    assert (failed, err) == (False, ""), err
    assert "5 created" in out
    return {m.card_no: m for m in Member.objects.all()}


def test_the_malls_numbers_import_exactly_as_given(mall_members):
    assert set(mall_members) == {*MALL_CARDS, "bars0001"}
    assert mall_members["BARS0001"].name == "老会员0"
    assert mall_members["bars0001"].name == "小写卡"
    assert mall_members["00012345"].card_no_display == "00012345"


def test_pos_receipts_and_resolve_take_every_card_number(mall_members, pos):
    for number, card in enumerate(MALL_CARDS):
        response = pos.receipt(sale(mall_members[card], receipt_no=f"R-{number}"))
        assert response.status_code == 201, response.content
        assert response.json()["card_no"] == card
        assert Receipt.objects.get(receipt_no=f"R-{number}").member == mall_members[card]

        resolved = pos.get(f"/api/pos/v1/members/resolve?card_no={card}")
        assert resolved.status_code == 200 and resolved.json()["card_no"] == card

    assert pos.get("/api/pos/v1/members/resolve?card_no=BARS0002").status_code == 404
    assert pos.get("/api/pos/v1/members/resolve?card_no=Bars0001").status_code == 404


@pytest.mark.parametrize("card", ["", "A" * 33, "BARS 0001", "卡123", "BARS\x000001", "88+1"])
def test_a_malformed_card_number_is_a_400_naming_the_field(mall_members, pos, card):
    body = sale(None, member={"card_no": card})
    response = pos.receipt(body)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["member.card_no"]
    assert not Receipt.objects.exists()

    resolved = pos.get(f"/api/pos/v1/members/resolve?card_no={quote(card)}")
    assert resolved.status_code == 400
    if card:  # an empty parameter counts as not given; a NUL is refused before the pattern
        assert list(resolved.json()["fields"]) == ["card_no"]


def test_coupons_go_to_the_listed_mall_cards_and_verify_with_their_numbers(
    tmp_path, mall_members, pos
):
    CouponTemplate.objects.create(
        code="WELCOME10", name="新会员 10 元", kind="cash", face_value_fen=1000, valid_days=30
    )
    cards_txt = tmp_path / "cards_txt.txt"
    cards_txt.write_text("\n".join([*MALL_CARDS, "", "NOSUCHCARD", "卡123", ""]), encoding="utf-8")

    out, err, failed = command("issue_coupons", "WELCOME10", str(cards_txt))

    assert not failed
    issued = dict(line.split(",") for line in out.strip().splitlines())
    assert set(issued) == set(MALL_CARDS)
    assert "line 6: no active member with card number NOSUCHCARD" in err
    assert "line 7: card_no: only letters" in err
    for card, code in issued.items():
        assert Coupon.objects.get(code=code).member == mall_members[card]

    card = "VIP-2019-000123"
    verify = {
        "store": "S01",
        "pos_no": "P03",
        "request_id": "req-mall-card",
        "code": issued[card],
        "member": {"card_no": card},
        "basket_fen": 30000,
        "lines": [{"name": "连衣裙", "qty": 1, "amount_fen": 30000}],
    }
    response = pos.post("/api/pos/v1/coupons/verify", verify)
    assert response.status_code == 200, response.content
    assert Coupon.objects.get(code=issued[card]).status == Coupon.Status.USED


def test_import_receipts_names_mall_cards_and_creates_unknown_ones(tmp_path, mall_members):
    when = (timezone.localtime() - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    rows = [
        f"S01,P03,IMP-{i},{when},{card},,连衣裙,,,女装,1,10000,0,"
        for i, card in enumerate([*MALL_CARDS, "NEW-0001", "卡123"])
    ]
    path = tmp_path / "receipts.csv"
    path.write_text("\n".join([RECEIPTS_HEADER, *rows, ""]), encoding="utf-8")

    _out, err, _failed = command("import_receipts", str(path), "--create-members")

    assert [line.split(": ", 1)[1] for line in err.strip().splitlines()] == [
        "line 7: receipt S01/P03/IMP-5 rejected: card_no: only letters A-Z a-z, digits and '-'"
        " are allowed, got '卡123'"
    ]
    for i, card in enumerate(MALL_CARDS):
        assert Receipt.objects.get(receipt_no=f"IMP-{i}").member == mall_members[card]
    assert Receipt.objects.get(receipt_no="IMP-4").member.card_no == "NEW-0001"
    assert not Receipt.objects.filter(receipt_no="IMP-5").exists()


def test_staff_find_send_to_and_export_mall_cards(client, mall_members):
    client.force_login(StaffFactory(user__role=Role.HQ_ADMIN).user)
    for card in MALL_CARDS:
        page = client.get("/backoffice/members/", {"q": card})
        assert list(page.context["page"].object_list) == [mall_members[card]]
        points = client.get("/backoffice/loyalty/points/", {"q": card})
        assert points["Location"] == f"/backoffice/loyalty/members/{mall_members[card].pk}/points/"
    lower = client.get("/backoffice/members/", {"q": "bars0001"})
    assert list(lower.context["page"].object_list) == [mall_members["bars0001"]]

    client.force_login(StaffFactory(user__role=Role.MARKETING).user)
    pushed = client.post(
        "/backoffice/members/messages/push/",
        {
            **once(),
            "kind": "campaign",
            "title": "老卡专享",
            "body": "欢迎",
            "link": "",
            "audience": "cards",
            "cards": "\n".join(MALL_CARDS),
        },
    )
    assert pushed.status_code == 302
    assert set(Message.objects.values_list("member__card_no", flat=True)) == set(MALL_CARDS)

    exported = MemberResource().export(Member.objects.order_by("card_no")).csv
    assert [line.split(",")[0] for line in exported.splitlines()[1:]] == sorted(mall_members)


def test_bad_card_numbers_are_reported_by_line_and_the_good_rows_kept(tmp_path, store):
    rows = [
        "BARS0001,13900000001,好一,F,,,",  # line 2
        ",13900000002,空卡,F,,,",  # line 3
        f"{'A' * 33},13900000003,太长,F,,,",  # line 4
        '"BARS 0002",13900000004,空格,F,,,',  # line 5
        "卡123,13900000005,中文,F,,,",  # line 6
        "BARS\x000003,13900000006,NUL,F,,,",  # line 7
        "00012345,13900000007,好二,F,,,",  # line 8
    ]

    out, err, failed = import_members(tmp_path, rows)

    assert failed
    assert [line.split(": ", 1)[1] for line in err.splitlines()] == [
        "line 3: card_no: required",
        "line 4: card_no: at most 32 characters, got 33",
        "line 5: card_no: only letters A-Z a-z, digits and '-' are allowed, got 'BARS 0002'",
        "line 6: card_no: only letters A-Z a-z, digits and '-' are allowed, got '卡123'",
        "line 7: card_no: only letters A-Z a-z, digits and '-' are allowed, got 'BARS\\x000003'",
    ]
    assert "2 created" in out
    assert set(Member.objects.values_list("card_no", flat=True)) == {"BARS0001", "00012345"}


def test_one_rule_for_every_card_number():
    from members.cards import CardNoError, card_no_clean, card_no_masked, card_nos_parse

    for card in [*MALL_CARDS, "bars0001", "1", "A" * 32, "-"]:
        assert card_no_clean(card) == card
        assert card_no_clean(f" {card}\t") == card
    for bad in ["", " ", "A" * 33, "BARS 0001", "卡123", "BARS\x000001", "８８１２", "8.80012E+11"]:
        with pytest.raises(CardNoError):
            card_no_clean(bad)
    assert [card_no_masked(c) for c in ("880000000013", "00012345", "VIP-2019-000123", "1")] == [
        "8800****0013",
        "00****45",
        "VIP-****0123",
        "****",
    ]
    parsed = card_nos_parse("BARS0001, 00012345\n8800 0000 0013\n卡123;bars0001\nBARS0001")
    assert parsed.cards == ["BARS0001", "00012345", "880000000013", "bars0001"]
    assert parsed.errors == [
        (3, "卡123", "only letters A-Z a-z, digits and '-' are allowed, got '卡123'")
    ]


def test_the_model_and_the_database_refuse_other_card_numbers(store):
    with pytest.raises(ValidationError) as invalid:
        Member(card_no="BARS 0001", home_store=store).full_clean()
    assert "card_no" in invalid.value.message_dict
    for bad in ["BARS 0001", "A" * 33, "卡123", ""]:
        with pytest.raises((IntegrityError, DataError)), transaction.atomic():
            Member.objects.create(card_no=bad)
    Member.objects.create(card_no="VIP-2019-000123").full_clean()


def test_issued_numbers_never_take_an_imported_one(monkeypatch, mall_members):
    taken = "880000000013"  # an old card that happens to have the form of the system's own
    Member.objects.create(card_no=taken, name="老卡恰好同号")
    draws = iter([1, 1, 2])  # the random draws behind 880000000013, again, then 880000000021
    monkeypatch.setattr(cards, "secrets", SimpleNamespace(randbelow=lambda _bound: next(draws)))

    member = member_create(name="新会员")

    assert member.card_no == "880000000021"
    assert Member.objects.get(card_no=taken).name == "老卡恰好同号"
