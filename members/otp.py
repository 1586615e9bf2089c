"""SMS one-time codes: 6 digits from `secrets`, 5 minutes, stored as a keyed hash, burnt after
5 wrong tries, one send a minute per phone, daily caps per phone and per IP (Shanghai days)."""

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import local_day_start
from core.exceptions import ServiceError
from members.models import SmsCode
from members.sms import sms_send

T = TypeVar("T")


class SmsCodeError(ServiceError):
    code = "sms_code_invalid"
    default_message = _("The code is wrong or has expired. Please request a new one.")


class SmsThrottled(ServiceError):
    code = "sms_throttled"


def _hash(*, phone: str, purpose: str, code: str) -> str:
    message = f"{purpose}:{phone}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


@transaction.atomic
def sms_code_send(*, phone: str, purpose: str, ip: str | None) -> SmsCode:
    """Send a fresh code to `phone`, replacing earlier ones; throttled per phone and per IP.

    Serialised per phone, then per IP, with advisory locks (always in that order), so two
    quick taps cannot both pass the checks, nor parallel sends to many phones from one address
    pass its daily cap. The answer is the same whether or not the phone belongs to a member.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"sms:{phone}"])
        if ip:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"sms-ip:{ip}"])
    now = timezone.now()
    recent = SmsCode.objects.filter(
        phone=phone, created_at__gte=local_day_start(timezone.localdate(now))
    )
    last = recent.order_by("-created_at").first()
    cooldown = settings.SMS_RESEND_COOLDOWN_SECONDS
    if last and (now - last.created_at).total_seconds() < cooldown:
        wait = cooldown - int((now - last.created_at).total_seconds())
        raise SmsThrottled(
            _("Please wait %(seconds)s seconds before requesting another code."),
            params={"seconds": wait},
        )
    if recent.count() >= settings.SMS_DAILY_LIMIT_PER_PHONE or (
        ip
        and SmsCode.objects.filter(
            ip=ip, created_at__gte=local_day_start(timezone.localdate(now))
        ).count()
        >= settings.SMS_DAILY_LIMIT_PER_IP
    ):
        raise SmsThrottled(_("Too many codes were requested today. Please try again tomorrow."))
    SmsCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    sms = SmsCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_hash(phone=phone, purpose=purpose, code=code),
        ip=ip,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    text = _("Your verification code is %(code)s. It is valid for 5 minutes; do not share it.") % {
        "code": code
    }
    sms_send(phone=phone, text=str(text))
    return sms


def sms_code_verify(*, phone: str, purpose: str, code: str) -> None:
    """Use up the current code of (phone, purpose) if `code` matches; count a wrong try if not.

    Locks the code row, so two correct submissions at once succeed only once.
    """
    sms_code_use(phone=phone, purpose=purpose, code=code)


def sms_code_use(
    *, phone: str, purpose: str, code: str, then: Callable[[], T] | None = None
) -> T | None:
    """Use up the current code of (phone, purpose) if `code` matches and run `then` in the
    same transaction, returning what it returns. If `then` raises, nothing it did is kept and
    the code stays usable; a wrong code counts a try (kept: call this outside a transaction)
    and `then` does not run.

    Locks the code row until `then` is done, so two correct submissions at once act once.
    """
    code = code.strip()
    result = None
    with transaction.atomic():
        sms = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        now = timezone.now()
        if sms is None or sms.expires_at <= now or sms.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            raise SmsCodeError()
        if not hmac.compare_digest(sms.code_hash, _hash(phone=phone, purpose=purpose, code=code)):
            sms.attempts += 1
            if sms.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
                sms.used_at = now  # burnt
            sms.save(update_fields=["attempts", "used_at"])
            wrong = True
        else:
            # Marked before `then` runs: an account deletion deletes the phone's codes.
            sms.used_at = now
            sms.save(update_fields=["used_at"])
            wrong = False
            if then is not None:
                result = then()
    if wrong:
        raise SmsCodeError()
    return result
