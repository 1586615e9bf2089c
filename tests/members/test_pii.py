"""National ID numbers at rest: AES-GCM ciphertext, a keyed blind index, masked output."""

import os
import subprocess
from datetime import date

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from config.embedded_postgres.control import pg_bin
from core.masking import mask_name, mask_national_id, mask_phone
from members.pii import pii_blind_index, pii_decrypt, pii_encrypt, pii_key_decode
from members.profile import member_identity_set
from members.selectors import member_by_national_id
from tests.members.factories import MemberFactory, national_id_make

ID_NUMBER = national_id_make(date(1990, 3, 7), region="330106", serial=47)  # 330106199003074xx
OTHER_KEY = "q3Ut8yV0b6m1C2p9xZk4L7wE5rT0aS8dF1gH2jK3lM4="


def member_with_id(number=ID_NUMBER, **kwargs):
    member = MemberFactory(gender="U", birthday=None, **kwargs)
    return member_identity_set(member_id=member.pk, national_id=number, national_id_consent=True)


def test_encryption_round_trips_and_is_bound_to_its_place():
    token = pii_encrypt(ID_NUMBER, context="members.member:1:national_id")
    assert pii_decrypt(token, context="members.member:1:national_id") == ID_NUMBER
    assert ID_NUMBER.encode() not in token
    # A fresh nonce each time: equal numbers do not give equal ciphertexts.
    assert token != pii_encrypt(ID_NUMBER, context="members.member:1:national_id")
    with pytest.raises(InvalidTag):
        pii_decrypt(token, context="members.member:2:national_id")  # copied to another row
    tampered = token[:-1] + bytes([token[-1] ^ 1])
    with pytest.raises(InvalidTag):
        pii_decrypt(tampered, context="members.member:1:national_id")


def test_the_blind_index_is_deterministic_and_keyed(settings):
    index = pii_blind_index(ID_NUMBER, kind="national_id")
    assert index == pii_blind_index(ID_NUMBER, kind="national_id") and len(index) == 64
    assert ID_NUMBER not in index
    assert index != pii_blind_index(ID_NUMBER, kind="phone")
    settings.PII_ENCRYPTION_KEY = OTHER_KEY
    assert pii_blind_index(ID_NUMBER, kind="national_id") != index


@pytest.mark.parametrize("key", ["", "not base64!", "c2hvcnQ=", "A" * 64])
def test_a_key_that_is_not_32_bytes_is_refused(key):
    with pytest.raises(ImproperlyConfigured):
        pii_key_decode(key)


@pytest.mark.django_db
def test_the_member_table_holds_no_clear_id_number():
    member = member_with_id()
    assert member.national_id_decrypted() == ID_NUMBER
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(m)::text, encode(national_id_cipher, 'escape') "
            "FROM members_member m WHERE id = %s",
            [member.pk],
        )
        row_json, cipher_text = cursor.fetchone()
    assert '"national_id_cipher"' in row_json and '"national_id_index"' in row_json
    for clear in (ID_NUMBER, ID_NUMBER[:-1], ID_NUMBER[6:14], ID_NUMBER[-8:]):
        assert clear not in row_json and clear not in cipher_text


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_clear_id_number():
    """Dumped with the embedded wheel's pg_dump (the newest, which dumps older servers too),
    so the test needs no PostgreSQL programs on the machine."""
    member_with_id()
    db = connection.settings_dict
    dump = subprocess.run(
        [
            str(pg_bin("pg_dump")),
            "--data-only",
            "--table=members_*",
            "-h",
            db["HOST"] or "127.0.0.1",
            "-p",
            str(db["PORT"] or 5432),
            "-U",
            db["USER"],
            db["NAME"],
        ],
        env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "members_member" in dump
    assert ID_NUMBER not in dump and ID_NUMBER[:-1] not in dump


@pytest.mark.django_db
def test_lookup_by_id_number_goes_through_the_blind_index():
    member = member_with_id()
    MemberFactory()
    assert member_by_national_id(ID_NUMBER.lower()) == member
    assert member_by_national_id(national_id_make(date(1990, 3, 7), serial=48)) is None
    assert member_by_national_id("not a number") is None


@pytest.mark.django_db
def test_the_database_refuses_one_id_number_on_two_members():
    first = member_with_id()
    other = MemberFactory()
    other.national_id_cipher = pii_encrypt(ID_NUMBER, context=other.national_id_context)
    other.national_id_index = first.national_id_index
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


@pytest.mark.django_db
def test_ciphertext_and_index_come_together():
    member = MemberFactory()
    member.national_id_cipher = pii_encrypt(ID_NUMBER, context=member.national_id_context)
    with pytest.raises(IntegrityError), transaction.atomic():
        member.save(update_fields=["national_id_cipher"])


@pytest.mark.parametrize(
    ("function", "value", "shown"),
    [
        (mask_national_id, "330106199003074717", "3301**********4717"),
        (mask_national_id, "11010519491231002X", "1101**********002X"),
        (mask_national_id, "", ""),
        (mask_national_id, None, ""),
        (mask_national_id, "12345", "*****"),
        (mask_phone, "13812345678", "138****5678"),
        (mask_name, "阿卜杜·热合曼", "阿******"),
    ],
)
def test_masked_output(function, value, shown):
    assert function(value) == shown


def test_the_development_key_fails_the_deploy_check(settings):
    from members.checks import DEVELOPMENT_PII_KEY

    settings.PII_ENCRYPTION_KEY = DEVELOPMENT_PII_KEY
    with pytest.raises(Exception, match="members.E002"):
        call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")
    settings.PII_ENCRYPTION_KEY = OTHER_KEY
    call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")
