"""Personal data kept no longer than its purpose needs (PIPL Art. 47): SMS codes, which hold
a phone number, only as long as the daily limits look back; till codes once expired."""

from datetime import timedelta

from django.utils import timezone

from members.models import MemberCardCode, SmsCode

SMS_CODES_KEPT = timedelta(days=2)  # the daily caps count one Shanghai day back
CARD_CODES_KEPT = timedelta(hours=1)


def personal_data_prune(*, now=None) -> dict:
    """Delete what has served its purpose; idempotent, safe to run any time."""
    now = now or timezone.now()
    sms, _detail = SmsCode.objects.filter(created_at__lt=now - SMS_CODES_KEPT).delete()
    codes, _detail = MemberCardCode.objects.filter(expires_at__lt=now - CARD_CODES_KEPT).delete()
    return {"sms_codes": sms, "card_codes": codes}
