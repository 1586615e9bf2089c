"""A member withdraws the ID-number consent: the number is erased and may be given again."""

from django.db import connection
from django.test import Client

from core.models import AuditLog
from members.models import Consent, Member
from members.profile import member_identity_set
from tests.members.factories import signed_in_as

IDS = ["33010619900101123X", "110105198503024565"]


def _with_id(member, number=IDS[0]):
    member_identity_set(member_id=member.pk, national_id=number, national_id_consent=True)
    member.refresh_from_db()
    return member


def test_withdrawing_erases_the_number_and_marks_the_consent(client, member_factory):
    member = _with_id(member_factory(gender="U", birthday=None))
    signed_in_as(client, member)
    assert "data-withdraw" in client.get("/m/me/profile/").content.decode()

    unconfirmed = client.post("/m/me/profile/identity/withdraw/")
    member.refresh_from_db()
    assert unconfirmed.status_code == 302 and member.national_id_cipher is not None

    client.post("/m/me/profile/identity/withdraw/", {"confirm": "yes"})

    member.refresh_from_db()
    assert member.national_id_cipher is None and member.national_id_index is None
    assert Consent.objects.get(member=member).withdrawn_at is not None
    assert AuditLog.objects.filter(action="members.national_id.consent_withdrawn").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id_index FROM members_member WHERE id = %s", [member.pk])
        assert cursor.fetchone() == (None,)
    _with_id(member)  # given again, with a new consent
    assert Consent.objects.filter(member=member, withdrawn_at__isnull=True).count() == 1


def test_withdrawing_touches_only_the_signed_in_member_and_needs_csrf(member_factory):
    mine = _with_id(member_factory(gender="U", birthday=None))
    theirs = _with_id(member_factory(gender="U", birthday=None), IDS[1])
    theirs.refresh_from_db()
    strict = signed_in_as(Client(enforce_csrf_checks=True), mine)
    assert strict.post("/m/me/profile/identity/withdraw/", {"confirm": "yes"}).status_code == 403

    browser = signed_in_as(Client(), mine, openid="o_b")
    browser.post("/m/me/profile/identity/withdraw/", {"confirm": "yes", "member": theirs.pk})

    assert Member.objects.get(pk=mine.pk).national_id_cipher is None
    assert Member.objects.get(pk=theirs.pk).national_id_cipher is not None
