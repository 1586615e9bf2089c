"""`manage.py import_receipts FILE.csv`: receipts recorded and earning as through the API."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from coupons.issuing import coupon_issue
from coupons.models import Campaign, CouponTemplate
from loyalty.ledger import ledger_check, points_balance
from loyalty.models import PointsAccount, PointsEntry, Receipt, ReceiptLine, Tier
from members.models import Member
from stores.models import Brand, Category, Sku
from tests.conftest import sale

HEADER = (
    "store,pos_no,receipt_no,occurred_at,card_no,sku,name,spec,brand,category,qty,amount_fen,"
    "non_merchandise,refund_of"
)
WHEN = (timezone.localtime() - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
LATER = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")


def run(tmp_path, rows, *options):
    """(stdout, stderr lines without the file name, failed) of the command."""
    path = tmp_path / "receipts.csv"
    path.write_text("\n".join([HEADER, *rows, ""]), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    failed = False
    try:
        call_command("import_receipts", str(path), *options, stdout=out, stderr=err)
    except CommandError:
        failed = True
    return out.getvalue(), [line.split(": ", 1)[1] for line in err.getvalue().splitlines()], failed


def row(receipt_no, card="", name="连衣裙", amount=29_900, *, category="女装", sku="", brand="",
        qty="1", nm="0", refund_of="", when=WHEN, store="S01", pos="P03"):  # fmt: skip
    return (
        f"{store},{pos},{receipt_no},{when},{card},{sku},{name},,{brand},{category},{qty},"
        f"{amount},{nm},{refund_of}"
    )


def points_of(receipt_no) -> int:
    return sum(
        PointsEntry.objects.filter(receipt__receipt_no=receipt_no).values_list("points", flat=True)
    )


@pytest.fixture
def catalogue(db):
    Category.objects.create(code="DP01", name="女装", division="department")
    food = Category.objects.create(code="SM", name="食品", division="supermarket")
    dairy = Category.objects.create(code="SM01", name="乳品", division="supermarket", parent=food)
    brand = Brand.objects.create(name="光明")
    Sku.objects.create(
        code="6901234567892", name="纯牛奶", spec="250ml", brand=brand, category=dairy
    )


def test_a_file_records_receipts_and_lines_earning_what_the_api_would(
    tmp_path, pos, member, catalogue
):
    PointsAccount.objects.create(member=member, tier=Tier.objects.get(code="silver"))
    card = member.card_no
    body = sale(member, receipt_no="API-1", amount_fen=29_900)
    body["lines"] += [
        {"sku": "6901234567892", "name": "纯牛奶", "qty": 3, "amount_fen": 1_950},
        {"name": "购物袋", "qty": 1, "amount_fen": 50, "non_merchandise": True},
    ]
    body["total_fen"] = body["payments"][0]["amount_fen"] = 29_900 + 1_950 + 50
    through_api = pos.receipt(body).json()["points_earned"]

    out, errors, failed = run(
        tmp_path,
        [
            row("F-1", card, brand="某品牌"),
            row("F-1", card, "纯牛奶", 1_950, category="", sku="6901234567892", qty="3"),
            row("F-1", card, "购物袋", 50, category="", nm="1"),
            row("F-2", "", "面包", 990, category="乳品"),
        ],
    )

    assert (errors, failed) == ([], False)
    assert "receipts added: 2 (4 lines), skipped as already present: 0, bad rows: 0" in out
    receipt = Receipt.objects.get(receipt_no="F-1")
    assert (receipt.member, receipt.kind, receipt.division, receipt.total_fen) == (
        member,
        "sale",
        "department",
        31_900,
    )
    milk = ReceiptLine.objects.get(receipt=receipt, line_no=2)
    assert (milk.category.name, milk.brand.name, milk.spec) == ("乳品", "光明", "250ml")
    assert milk.qty == 3
    assert ReceiptLine.objects.get(receipt=receipt, line_no=3).non_merchandise
    assert Receipt.objects.get(receipt_no="F-2").division == "supermarket"
    # 299 yuan × 1.2 + 19.50 yuan at 1 point / 2 yuan × 1.2, the bag earning nothing
    assert through_api == 358 + 11
    assert points_of("F-1") == through_api
    assert PointsEntry.objects.get(receipt=receipt).key == f"earn:receipt:{receipt.pk}"
    assert ledger_check() == []


def test_the_same_file_again_adds_nothing(tmp_path, member, catalogue):
    rows = [row("F-1", member.card_no), row("F-2", member.card_no, amount=1000)]
    run(tmp_path, rows)
    balance = points_balance(member_id=member.pk)

    out, errors, failed = run(tmp_path, rows)

    assert (errors, failed) == ([], False)
    assert "receipts added: 0 (0 lines), skipped as already present: 2" in out
    assert (Receipt.objects.count(), ReceiptLine.objects.count()) == (2, 2)
    assert points_balance(member_id=member.pk) == balance == 309


def test_a_receipt_earned_through_the_api_is_skipped_by_a_later_import(tmp_path, pos, member):
    answer = pos.receipt(sale(member, receipt_no="R-1", amount_fen=10_000)).json()

    out, _errors, _failed = run(tmp_path, [row("R-1", member.card_no, amount=10_000)])

    assert "skipped as already present: 1" in out
    assert PointsEntry.objects.filter(kind="earn").count() == 1
    assert points_balance(member_id=member.pk) == answer["points_balance"] == 100


def test_bad_rows_reject_their_whole_receipt_by_line_and_good_receipts_are_kept(
    tmp_path, member, catalogue
):
    card = member.card_no
    out, errors, failed = run(
        tmp_path,
        [
            row("OK-1", card),  # line 2
            row("BAD-1", card, "半件", 1_000),  # line 3
            row("BAD-1", card, "坏行", "12.5", qty="0"),  # line 4
            row("BAD-2", card, when="2026/11/20 10:00"),  # line 5
            row("BAD-3", card, when=LATER),  # line 6
            row("BAD-3", card),  # line 7: another time than its first row
            row("OK-2", card, amount=500),  # line 8
            row("BAD-4", card, store="S99"),  # line 9
        ],
    )

    assert failed
    assert errors == [
        "line 3: receipt S01/P03/BAD-1 rejected: line 4 of it is bad",
        "line 4: qty: must be above 0 and at most 99999, got '0'; amount_fen: a whole number of"
        " fen expected (29900 = ¥299), got '12.5' (receipt S01/P03/BAD-1 rejected)",
        "line 5: receipt S01/P03/BAD-2 rejected: occurred_at: ISO time expected"
        " (2026-11-23 10:15:00 or 2026-11-23T10:15:00+08:00), got '2026/11/20 10:00'",
        "line 6: receipt S01/P03/BAD-3 rejected: line 7 of it is bad",
        "line 7: occurred_at, card_no and refund_of differ from the receipt's first row"
        " (receipt S01/P03/BAD-3 rejected)",
        "line 9: receipt S99/P03/BAD-4 rejected: no store with code 'S99'",
    ]
    assert "receipts added: 2 (2 lines)" in out and "bad rows: 6" in out
    assert set(Receipt.objects.values_list("receipt_no", flat=True)) == {"OK-1", "OK-2"}


def test_a_receipt_in_the_file_twice_is_refused_not_doubled(tmp_path, member):
    rows = [row("R-1", member.card_no), row("R-2", member.card_no)]
    _out, errors, _failed = run(tmp_path, [*rows, *rows])

    assert errors[0] == (
        "line 2: receipt S01/P03/R-1 rejected: its rows are in two places: is it in the file twice?"
    )
    assert len(errors) == 4 and not Receipt.objects.exists()


def test_an_unknown_card_rejects_its_receipt_unless_members_may_be_created(tmp_path, store):
    rows = [row("R-1", "000000000042", amount=10_000), row("R-1", "000000000042", "袜子", 500)]

    _out, errors, failed = run(tmp_path, rows)

    assert failed
    assert errors == [
        "line 2: receipt S01/P03/R-1 rejected: no member with card_no 000000000042",
        "line 3: receipt S01/P03/R-1 rejected: no member with card_no 000000000042",
    ]
    assert not Receipt.objects.exists()

    out, errors, failed = run(tmp_path, rows, "--create-members")

    assert (errors, failed) == ([], False)
    assert "members created: 1" in out
    member = Member.objects.get(card_no="000000000042")
    assert (member.home_store, member.channel) == (store, "import")
    assert member.registered_at == Receipt.objects.get().occurred_at
    assert points_balance(member_id=member.pk) == 105


def test_refunds_reverse_points_of_sales_in_the_file_or_recorded_before(tmp_path, pos, member):
    card = member.card_no
    pos.receipt(sale(member, receipt_no="API-1", amount_fen=10_000))  # 100 points

    _out, errors, failed = run(
        tmp_path,
        [
            row("RF-0", "", amount=1_000, refund_of="S-1"),  # line 2: its sale comes later
            row("S-1", card, amount=100_000),  # line 3: 1000 points
            row("RF-1", "", amount=40_000, refund_of="S-1", when=LATER),  # line 4
            row("RF-2", card, amount=70_000, refund_of="S-1", when=LATER),  # line 5: too much
            row("RF-3", card, amount=2_500, refund_of="API-1", when=LATER),  # line 6
        ],
    )

    assert failed
    assert errors == [
        "line 2: receipt S01/P03/RF-0 rejected: no sale S-1 on this POS recorded or earlier"
        " (the file's receipt is rejected or later)",
        "line 5: receipt S01/P03/RF-2 rejected: only 60000 fen of the sale S-1 is left to refund",
    ]
    assert (points_of("S-1"), points_of("RF-1"), points_of("RF-3")) == (1000, -400, -25)
    refund = Receipt.objects.get(receipt_no="RF-1")
    assert (refund.kind, refund.refund_of.receipt_no, refund.member) == ("refund", "S-1", member)
    assert points_balance(member_id=member.pk) == 100 + 1000 - 400 - 25
    assert ledger_check() == []


def test_a_full_refund_of_a_sale_made_with_a_coupon_gives_the_coupon_back(tmp_path, pos, member):
    template = CouponTemplate.objects.create(
        code="cash10", name="现金券", kind="cash", face_value_fen=1000, valid_days=30
    )
    campaign = Campaign.objects.create(name="双十一", channel=Campaign.Channel.MANUAL)
    coupon = coupon_issue(template=template, member=member, campaign=campaign)
    pos.receipt(sale(member, receipt_no="S-1", amount_fen=30_000, coupons=[coupon.code]))
    half = [row("RF-1", "", amount=15_000, refund_of="S-1", when=LATER)]
    rest = [row("RF-2", "", amount=15_000, refund_of="S-1", when=LATER)]

    run(tmp_path, half)
    coupon.refresh_from_db()
    assert coupon.status == "used"
    run(tmp_path, rest)

    coupon.refresh_from_db()
    assert (coupon.status, coupon.used_receipt) == ("unused", None)


def test_no_points_records_the_receipts_only(tmp_path, member):
    out, _errors, _failed = run(tmp_path, [row("R-1", member.card_no)], "--no-points")

    assert "points: not earned (--no-points)" in out
    assert Receipt.objects.get().member == member
    assert not PointsEntry.objects.exists()


@pytest.mark.parametrize(
    "column", ["store", "pos", "receipt_no", "when", "card", "name", "sku", "qty", "refund_of"]
)
def test_a_nul_in_any_cell_rejects_its_receipt_not_the_file(tmp_path, member, column):
    good = {"receipt_no": "N-1", "card": member.card_no}
    bad = {**good, "receipt_no": "N-2"}
    bad[column] = {"when": WHEN, "store": "S01", "pos": "P03", "qty": "1"}.get(column, "")
    bad[column] = bad[column][:2] + "\x00" + bad[column][2:]
    bad["refund_of"] = bad.get("refund_of", "")
    receipt_no = bad.pop("receipt_no")

    out, errors, failed = run(tmp_path, [row(**good), row(receipt_no, **bad)])

    assert failed and len(errors) == 1, errors
    assert "\x00" not in errors[0]  # shown escaped, as repr() does
    assert list(Receipt.objects.values_list("receipt_no", flat=True)) == ["N-1"]
