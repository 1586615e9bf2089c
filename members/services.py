from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import audit_log
from core.exceptions import PermissionDenied, ServiceError
from members.cards import card_no_random
from members.models import Consent, Member, RegistrationChannel, SmsCode, WechatIdentity
from members.otp import sms_code_use
from members.profile import PRIVACY_POLICY_VERSION
from members.signals import member_registered
from members.wechat import WeChatUser
from stores.models import Store

CARD_NO_ATTEMPTS = 5


def member_create(
    *,
    phone: str | None = None,
    name: str = "",
    gender: str = Member.Gender.UNKNOWN,
    birthday: date | None = None,
    home_store: Store | None = None,
    channel: str = "",
    registered_at: datetime | None = None,
) -> Member:
    """Create a member with a fresh random card number (retried if the number is taken)."""
    if phone and Member.objects.filter(phone=phone).exists():
        raise ServiceError(_("This phone number already belongs to a member."), code="phone_taken")
    for _attempt in range(CARD_NO_ATTEMPTS):
        member = Member(
            card_no=card_no_random(),
            phone=phone or None,
            name=name,
            gender=gender,
            birthday=birthday,
            home_store=home_store,
            region_id=home_store.region_id if home_store else None,
            channel=channel,
            registered_at=registered_at or timezone.now(),
        )
        member.full_clean(exclude=["card_no"], validate_unique=False)
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError:
            if Member.objects.filter(card_no=member.card_no).exists():
                continue
            raise
        return member
    raise RuntimeError(f"no free card number after {CARD_NO_ATTEMPTS} attempts")


def wechat_identity_login(*, user: WeChatUser) -> WechatIdentity:
    """Record a WeChat sign-in: the identity of (app, openid), created on first sight.

    A first sign-in whose unionid is already bound to a member (through another of the
    mall's WeChat apps) is bound to that member too. Snapshot-mode users (WeChat's preview
    of a page before the user has really authorised) never get an identity.
    """
    if user.is_snapshot:
        raise ServiceError(
            _("Please open the member page from WeChat and allow it to continue."),
            code="wechat_snapshot_user",
        )
    now = timezone.now()
    identity, created = WechatIdentity.objects.get_or_create(
        app_id=settings.WECHAT_APP_ID,
        openid=user.openid,
        defaults={"unionid": user.unionid, "last_login_at": now},
    )
    update = {"last_login_at": now}
    if user.unionid and identity.unionid != user.unionid:
        update["unionid"] = user.unionid
    if user.nickname or user.avatar_url:
        update.update(nickname=user.nickname, avatar_url=user.avatar_url, profile_fetched_at=now)
    if identity.member_id is None and user.unionid:
        sibling = (
            WechatIdentity.objects.filter(unionid=user.unionid, member__isnull=False)
            .exclude(pk=identity.pk)
            .first()
        )
        if sibling is not None:
            update["member_id"] = sibling.member_id
    for name, value in update.items():
        setattr(identity, name, value)
    identity.save(update_fields=list(update))
    return identity


@transaction.atomic
def member_bind_phone(
    *, identity: WechatIdentity, phone: str, privacy_consent: bool, channel: str = ""
) -> Member:
    """Bind a verified phone to the WeChat identity: link the member who already has that phone
    (imported from the tills), or register a new one; either way the welcome coupons follow.
    Only after the privacy policy was accepted, which is recorded with its version and time.
    Locks the identity row."""
    if not privacy_consent:
        raise ServiceError(
            _("Please read and accept the privacy policy first."), code="consent_required"
        )
    identity = WechatIdentity.objects.select_for_update().get(pk=identity.pk)
    if identity.member_id is not None:
        raise ServiceError(_("This WeChat account is already a member."), code="already_bound")
    member = Member.objects.select_for_update().filter(phone=phone).first()
    if member is not None:
        if member.status != Member.Status.ACTIVE:
            raise ServiceError(
                _("This membership is not active. Please ask the service desk."), code="inactive"
            )
        if member.wechat_identities.filter(app_id=identity.app_id).exists():
            raise ServiceError(
                _("This phone is bound to another WeChat account. Please ask the service desk."),
                code="phone_bound_elsewhere",
            )
        store = _channel_store(channel) if member.home_store_id is None else None
        if store is not None:
            member.home_store, member.region_id = store, member.region_id or store.region_id
            member.save(update_fields=["home_store", "region"])
    else:
        member = member_create(
            phone=phone, channel=channel[:32], home_store=_channel_store(channel)
        )
    identity.member = member
    identity.save(update_fields=["member"])
    Consent.objects.create(
        member=member,
        purpose=Consent.Purpose.PRIVACY_POLICY,
        policy_version=PRIVACY_POLICY_VERSION,
    )
    member_registered.send(sender=Member, member=member, channel=channel[:32] or member.channel)
    return member


def member_bind_phone_by_code(
    *, identity: WechatIdentity, phone: str, code: str, privacy_consent: bool, channel: str = ""
) -> Member:
    """验证手机: check the SMS code sent to `phone` and bind it (member_bind_phone) in one
    transaction, so a refused binding leaves the code usable for another try and a wrong code
    binds nothing. Locks the code row, then the identity's."""
    return sms_code_use(
        phone=phone,
        purpose=SmsCode.Purpose.BIND,
        code=code,
        then=lambda: member_bind_phone(
            identity=identity, phone=phone, privacy_consent=privacy_consent, channel=channel
        ),
    )


def _channel_store(channel: str) -> Store | None:
    """The store of a registration channel code, if the channel belongs to one."""
    if not channel:
        return None
    found = RegistrationChannel.objects.filter(code=channel[:32]).select_related("store").first()
    return found.store if found else None


PII_FIELDS = {"phone", "national_id"}


def member_pii_reveal(*, member: Member, field: str, actor, reason: str) -> str:
    """The full phone number or ID number of `member` for a staff user allowed to see it, each
    read written to the audit log with the reason given."""
    if not actor.has_perm("members.reveal_member_pii"):
        raise PermissionDenied()
    if field not in PII_FIELDS:
        raise ValueError(f"not a revealable field: {field}")
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Give the reason for looking at this."), code="reason_required")
    value = member.phone or "" if field == "phone" else member.national_id_decrypted()
    if not value:
        raise ServiceError(_("Nothing is on file to show."), code="nothing_to_reveal")
    audit_log(
        actor=actor,
        action="members.pii.revealed",
        target=member,
        data={"field": field, "reason": reason},
    )
    return value
