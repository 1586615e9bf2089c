"""The member list page (会员列表): search, masking, keyset pages, counts, scope, and the
export (CSV and XLSX read back, formulas defused, audited, scoped, permission)."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics.member_list import cursor_encode, keyset_page, members_sorted
from core.models import AuditLog
from core.roles import Role
from members.models import Member
from members.pii import pii_blind_index, pii_encrypt
from tests.analytics.list_helpers import clv, points, snapshot
from tests.members.factories import MemberFactory, StaffFactory, national_id_make
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db
URL = "/backoffice/members/"


@pytest.fixture
def analyst(client):
    user = StaffFactory(user__role=Role.ANALYST).user
    client.force_login(user)
    return user


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-member="(\d+)"', response.content.decode())]


def test_the_list_is_the_member_list_url_and_masks_personal_data(client, analyst):
    assert reverse("backoffice:member_list") == URL
    MemberFactory(card_no="C1", name="张三丰", phone="13812345678")
    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert "张**" in html and "138****5678" in html
    assert "张三丰" not in html and "13812345678" not in html


def test_search_by_card_phone_id_exact_and_name_prefix(client, analyst):
    born = timezone.localdate().replace(year=1990, month=1, day=1)
    a = MemberFactory(card_no="CARD-777", name="李雷", phone="13900000001")
    b = MemberFactory(card_no="CARD-778", name="李梅", phone="13900000002")
    c = MemberFactory(card_no="CARD-779", name="韩梅梅", phone="13900000003")
    number = national_id_make(born)
    c.national_id_cipher = pii_encrypt(number, context=c.national_id_context)
    c.national_id_index = pii_blind_index(number, kind="national_id")
    c.save()
    assert listed(client.get(URL, {"q": "CARD-777"})) == [a.pk]
    assert listed(client.get(URL, {"q": "13900000002"})) == [b.pk]
    assert listed(client.get(URL, {"q": national_id_make(born)})) == [c.pk]
    assert set(listed(client.get(URL, {"q": "李"}))) == {a.pk, b.pk}
    assert listed(client.get(URL, {"q": "1390000"})) == []  # no phone prefixes
    page = client.get(URL, {"q": "李"})
    assert "李*" in page.content.decode() and "李雷" not in page.content.decode()


def test_keyset_pages_split_ties_without_duplicates_or_misses(db):
    """60 members share one registration time and 10 more another: walking forwards then
    backwards sees each exactly once, in (time, id) order."""
    same = timezone.now() - timedelta(days=3)
    members = [MemberFactory(registered_at=same) for _ in range(60)]
    members += [MemberFactory(registered_at=same + timedelta(hours=1)) for _ in range(10)]
    queryset, descending = members_sorted(Member.objects.all(), "-registered")
    seen, after, pages = [], None, []
    for _attempt in range(100):  # bounded: a cursor that never advances fails, not hangs
        page = keyset_page(queryset, descending=descending, after=after, size=25)
        pages.append(page)
        seen += [m.pk for m in page.rows]
        if page.next_cursor is None:
            break
        from analytics.member_list import cursor_decode

        after = cursor_decode(page.next_cursor)
    assert len(seen) == len(set(seen)) == 70
    expected = sorted(members, key=lambda m: (m.registered_at, m.pk), reverse=True)
    assert seen == [m.pk for m in expected]
    # back from the last page gives the middle page again
    from analytics.member_list import cursor_decode

    back = keyset_page(
        queryset, descending=descending, before=cursor_decode(pages[-1].prev_cursor), size=25
    )
    assert [m.pk for m in back.rows] == [m.pk for m in pages[1].rows]
    assert back.prev_cursor is not None and back.next_cursor is not None


@pytest.mark.parametrize("sort", ["points", "-points"])
def test_keyset_pages_on_a_joined_sort_with_many_ties(db, sort):
    members = [MemberFactory() for _ in range(23)]
    for i, member in enumerate(members):
        points(member, balance=100 if i % 3 else 0)
    queryset, descending = members_sorted(Member.objects.all(), sort)
    seen, after = [], None
    from analytics.member_list import cursor_decode

    for _attempt in range(100):  # bounded: a cursor that never advances fails, not hangs
        page = keyset_page(queryset, descending=descending, after=after, size=4)
        seen += [(m.sort_value, m.pk) for m in page.rows]
        if page.next_cursor is None:
            break
        after = cursor_decode(page.next_cursor, sort)
    assert len(seen) == 23 and len(set(seen)) == 23
    assert seen == sorted(seen, reverse=sort.startswith("-"))


def test_pages_through_the_view_with_next_and_previous_links(client, analyst):
    for _ in range(55):
        MemberFactory()
    first = client.get(URL)
    assert len(listed(first)) == 50
    next_link = re.search(r'href="\?([^"]*after=[^"]+)" rel="next"', first.content.decode())
    second = client.get(URL + "?" + next_link.group(1).replace("&amp;", "&"))
    assert len(listed(second)) == 5 and not set(listed(first)) & set(listed(second))
    assert 'rel="prev"' in second.content.decode() and 'rel="next"' not in second.content.decode()
    assert second.context["exact"] == 55  # a small set is counted exactly


def test_sort_by_spend_and_predicted_value(client, analyst):
    a, b, c = MemberFactory(), MemberFactory(), MemberFactory()
    snapshot({a: {"monetary_fen": 300}, b: {"monetary_fen": 900}})
    clv({a: (0.5, 7_000), c: (0.5, 9_000)})
    assert listed(client.get(URL, {"sort": "-spend"})) == [b.pk, a.pk]
    assert listed(client.get(URL, {"sort": "-value"})) == [c.pk, a.pk]
    assert listed(client.get(URL, {"sort": "bogus"})) == [c.pk, b.pk, a.pk]  # the default


def test_a_forged_cursor_starts_from_the_first_page(client, analyst):
    member = MemberFactory()
    points(member, 5)
    forged = ["!!!", "eyJ4IjoxfQ", cursor_encode("DROP", 1), cursor_encode(2**70, 1)]
    forged += [cursor_encode(timezone.now(), 1)]  # a time where -points wants a number
    for cursor in forged:
        for direction in ("after", "before"):
            page = client.get(URL, {direction: cursor, "sort": "-points"})
            assert page.status_code == 200 and len(listed(page)) == 1
    # and a number where the registration sort wants a time
    assert len(listed(client.get(URL, {"after": cursor_encode(5, member.pk)}))) == 1


def test_count_is_an_estimate_until_asked(client, analyst, monkeypatch):
    import analytics.views_backoffice as views

    for _ in range(55):
        MemberFactory()
    monkeypatch.setattr(views, "EXACT_COUNT_BELOW", 0)
    page = client.get(URL)
    assert page.context["exact"] is None and page.context["estimate"] >= 0
    assert "count=1" in page.content.decode()
    assert client.get(URL, {"count": "1"}).context["exact"] == 55


def test_bad_filter_values_are_form_errors_not_500(client, analyst):
    page = client.get(URL, {"age_min": "40", "age_max": "30", "tier": "abc"})
    assert page.status_code == 400
    assert page.context["form"].errors.keys() >= {"age_max", "tier"}
    assert page.context["page"] is None


def test_a_store_manager_lists_only_their_store(client):
    mine, theirs = StoreFactory(code="Z1"), StoreFactory(code="Z2")
    a = MemberFactory(home_store=mine)
    MemberFactory(home_store=theirs)
    manager = StaffFactory(user__role=Role.STORE_MANAGER, scope="store", store=mine).user
    client.force_login(manager)
    assert listed(client.get(URL)) == [a.pk]
    # store managers may not export
    assert client.get(reverse("backoffice:member_export")).status_code == 403


def test_roles_without_member_access_are_refused(client):
    client.force_login(StaffFactory(user__role=Role.CUSTOMER_SERVICE).user)
    assert client.get(reverse("backoffice:member_export")).status_code == 403


# --- Export ----------------------------------------------------------------------------------


@pytest.fixture
def risky(db):
    store = StoreFactory(code="E1", name="=HYPERLINK(1)")
    return [
        MemberFactory(
            card_no="E-1", name="=cmd|' /C calc'!A0", phone="13811112222", home_store=store
        ),
        MemberFactory(card_no="E-2", name="+SUM(A1)", phone="13811113333", home_store=store),
        MemberFactory(card_no="E-3", name="@x", phone=None, home_store=store, gender="M"),
    ]


def test_csv_export_is_masked_formula_safe_and_audited(client, analyst, risky):
    response = client.get(reverse("backoffice:member_export"), {"format": "csv", "gender": "F"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["卡号", "姓名", "手机号码"]
    data = {row[0]: row for row in rows[1:]}
    assert set(data) == {"E-1", "E-2"}  # the filter applies
    assert data["E-1"][1] == "'=*************" or data["E-1"][1].startswith("'=")
    assert data["E-2"][1].startswith("'+")
    assert data["E-1"][2] == "138****2222"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert "13811112222" not in body
    log = AuditLog.objects.get(action="analytics.members.exported")
    assert log.actor == analyst
    assert log.data["rows"] == 2 and log.data["params"] == {"gender": "F"}
    assert log.data["format"] == "csv"


def test_xlsx_export_reads_back(client, analyst, risky):
    response = client.get(reverse("backoffice:member_export"), {"format": "xlsx"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert len(rows) == 4
    cells = [c for row in rows[1:] for c in row if isinstance(c, str)]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert "'=HYPERLINK(1)" in cells  # the store's name, defused
    assert AuditLog.objects.get(action="analytics.members.exported").data["rows"] == 3


def test_export_is_scoped(client, risky):
    other = StoreFactory(code="E2")
    MemberFactory(card_no="E-9", home_store=other)
    staff = StaffFactory(user__role=Role.ANALYST, scope="store", store=other).user
    client.force_login(staff)
    response = client.get(reverse("backoffice:member_export"), {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "E-9" in body and "E-1" not in body
    assert AuditLog.objects.get(action="analytics.members.exported").data["rows"] == 1


def test_export_refuses_bad_input(client, analyst):
    assert client.get(reverse("backoffice:member_export"), {"format": "pdf"}).status_code == 400
    bad = client.get(reverse("backoffice:member_export"), {"format": "csv", "points_min": "-1"})
    assert bad.status_code == 400
    assert not AuditLog.objects.filter(action="analytics.members.exported").exists()


def test_export_needs_the_permission(client):
    client.force_login(StaffFactory(user__role=Role.MARKETING).user)
    assert client.get(reverse("backoffice:member_export")).status_code == 403
    assert StaffFactory(user__role=Role.HQ_ADMIN).user.has_perm("analytics.export_members")
