"""Personal data past its purpose is deleted nightly (PIPL Art. 47)."""

from datetime import timedelta

from django.utils import timezone

from members.card_codes import card_code_issue
from members.models import MemberCardCode, SmsCode
from members.tasks import personal_data_prune_nightly


def _code(phone, age):
    created = timezone.now() - age
    return SmsCode.objects.create(
        phone=phone,
        purpose="bind",
        code_hash="x" * 64,
        created_at=created,
        expires_at=created + timedelta(minutes=5),
    )


def test_old_sms_codes_and_expired_till_codes_go_the_rest_stays(member_factory):
    member = member_factory()
    old, recent = _code("13800000001", timedelta(days=3)), _code("13800000002", timedelta(hours=20))
    live = card_code_issue(member=member)
    stale = card_code_issue(member=member)  # (issuing clears the member's expired codes)
    MemberCardCode.objects.filter(pk=stale.pk).update(
        expires_at=timezone.now() - timedelta(hours=2)
    )

    assert personal_data_prune_nightly.delay().get() == {"sms_codes": 1, "card_codes": 1}

    assert list(SmsCode.objects.values_list("pk", flat=True)) == [recent.pk]
    assert list(MemberCardCode.objects.values_list("pk", flat=True)) == [live.pk]
    assert old.phone not in set(SmsCode.objects.values_list("phone", flat=True))
    assert personal_data_prune_nightly.delay().get() == {"sms_codes": 0, "card_codes": 0}
