"""`manage.py import_members FILE.csv`: upsert by card number, bad rows reported by line."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditLog
from members.models import Member

pytestmark = pytest.mark.django_db

HEADER = "card_no,phone,name,gender,birthday,registered_at,store"


@pytest.fixture
def store(db):
    from tests.stores.factories import StoreFactory

    return StoreFactory(code="S01", name="武林旗舰店")


def run(path):
    """(stdout, stderr, failed) of the command."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_members", str(path), stdout=out, stderr=err)
    except CommandError:
        return out.getvalue(), err.getvalue(), True
    return out.getvalue(), err.getvalue(), False


def write(tmp_path, rows, *, encoding="utf-8", newline="\n", header=HEADER):
    path = tmp_path / "members.csv"
    path.write_bytes(newline.join([header, *rows, ""]).encode(encoding))
    return path


def errors(stderr: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in stderr.splitlines()]


def test_new_cards_are_created_and_known_ones_updated_where_the_file_has_a_value(
    tmp_path, store, member_factory
):
    known = member_factory(
        card_no="880000000018", phone="13900000001", name="旧名", birthday=date(1980, 1, 2)
    )
    path = write(
        tmp_path,
        [
            "880000000018,13900000001,新名,女,,,",
            "880000000026,13912345678,李雷,男,1990-05-06,2024-03-01,S01",
        ],
    )

    out, err, failed = run(path)

    assert (failed, err) == (False, "")
    assert "1 created, 1 updated, 0 unchanged, 0 bad rows" in out
    known.refresh_from_db()
    assert (known.name, known.phone, known.birthday) == ("新名", "13900000001", date(1980, 1, 2))
    new = Member.objects.get(card_no="880000000026")
    assert (new.phone, new.name, new.gender, new.birthday) == (
        "13912345678",
        "李雷",
        "M",
        date(1990, 5, 6),
    )
    assert (new.home_store, new.region, new.channel) == (store, store.region, "import")
    assert new.registered_at == datetime(2024, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert AuditLog.objects.get(action="members.imported").data["created"] == 1

    again, _err, _failed = run(path)
    assert "0 created, 0 updated, 2 unchanged" in again


def test_bad_rows_are_reported_by_the_line_they_start_on_and_the_good_rows_kept(tmp_path, store):
    path = write(
        tmp_path,
        [
            "880000000018,13900000001,好一,F,,,",  # line 2
            "8800 0000 001,13900000002,坏卡,F,,,",  # line 3: spaces in the card number
            "880000000026,13900000003,坏性别,X,2024-02-30,,S99",  # line 4: three bad cells
            '880000000034,13900000004,"王\n五",F,,,',  # lines 5-6: a newline in the name
            "880000000042,12345,坏手机,F,,,",  # line 7
            "880000000059,13900000005,好二,U,1975-12-31,2020-01-01 09:30,S01",  # line 8
            "880000000067,13900000006,少一格,F,,",  # line 9
        ],
    )

    out, err, failed = run(path)

    assert failed
    assert errors(err) == [
        "line 3: card_no: only letters A-Z a-z, digits and '-' are allowed, got '8800 0000 001'",
        "line 4: gender: M, F, U, 男 or 女 expected, got 'X'; birthday: no such date "
        "'2024-02-30'; store: no store with code 'S99'",
        "line 5: name: contains control characters",
        "line 7: phone: 11-digit mainland mobile number expected, got '12345'",
        "line 9: 7 cells expected, 6 found",
    ]
    assert "2 created" in out and "5 bad rows" in out
    assert set(Member.objects.values_list("name", flat=True)) == {"好一", "好二"}


@pytest.mark.parametrize(
    "encoding, newline",
    [("utf-8-sig", "\r\n"), ("utf-8", "\n"), ("gbk", "\r\n"), ("gb18030", "\r")],
)
def test_utf8_with_or_without_bom_and_gbk_files_read_alike(tmp_path, store, encoding, newline):
    path = write(
        tmp_path, ["880000000018,13900000001,欧阳娜娜,女,1992-07-08,,S01"], encoding=encoding
    )
    path.write_bytes(path.read_bytes().replace(b"\n", newline.encode()))

    _out, err, failed = run(path)

    assert (failed, err) == (False, "")
    member = Member.objects.get()
    assert (member.name, member.gender) == ("欧阳娜娜", "F")


def test_card_numbers_stay_text_with_their_leading_zeros(tmp_path):
    path = write(tmp_path, ["000000000123,,零壹,,,,", "8.80012E+11,,表格,,,,"])

    _out, err, _failed = run(path)

    assert list(Member.objects.values_list("card_no", flat=True)) == ["000000000123"]
    assert "line 3: card_no: '8.80012E+11' is a number Excel reformatted" in err


def test_a_phone_of_another_card_or_shared_in_the_file_is_a_bad_row(tmp_path, member_factory):
    member_factory(card_no="880000000018", phone="13900000001")
    path = write(
        tmp_path,
        [
            "880000000026,13900000001,抢号,,,,",  # line 2: another member's phone
            "880000000034,13900000002,甲,,,,",  # lines 3 and 4 share a phone
            "880000000042,139-0000-0002,乙,,,,",
            "880000000059,13900000003,丙,,,,",  # lines 5 and 6 share a card
            "880000000059,13900000004,丁,,,,",
            "880000000067,13900000007,好,,,,",
        ],
    )

    _out, err, failed = run(path)

    assert failed
    assert errors(err) == [
        "line 2: phone: belongs to another member (card 880000000018)",
        "line 3: phone: also on line 4",
        "line 4: phone: also on line 3",
        "line 5: card_no: also on line 6",
        "line 6: card_no: also on line 5",
    ]
    assert set(Member.objects.values_list("card_no", flat=True)) == {"880000000018", "880000000067"}


def test_a_name_that_looks_like_a_formula_is_stored_as_plain_text(tmp_path):
    path = write(tmp_path, ['880000000018,,"=HYPERLINK(""http://x"")",,,,'])
    run(path)
    assert Member.objects.get().name == '=HYPERLINK("http://x")'


def test_a_closed_membership_is_not_brought_back(tmp_path, member_factory):
    member_factory(card_no="880000000018", phone=None, name="", status=Member.Status.CLOSED)
    path = write(tmp_path, ["880000000018,13900000001,复活,,,,"])

    _out, err, failed = run(path)

    assert failed and "this membership was closed and anonymised" in err
    assert Member.objects.get().name == ""


def test_columns_may_come_in_any_order_but_not_missing(tmp_path):
    reordered = write(
        tmp_path,
        ["甲,880000000018,,,,,"],
        header="Name,card_no,phone,gender,birthday,store,registered_at",
    )
    run(reordered)
    assert Member.objects.get().name == "甲"

    missing = write(tmp_path, ["880000000026,乙"], header="card_no,name")
    with pytest.raises(CommandError, match="Missing column"):
        call_command("import_members", str(missing), stdout=io.StringIO())
    assert Member.objects.count() == 1
