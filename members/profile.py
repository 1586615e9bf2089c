"""The member's profile: verified identity fields that lock, the extended profile, addresses.

Name, gender, phone, ID number and birthday are locked once they hold a value (the phone is
verified by SMS; the others when the member or an import sets them); after that only the
service desk changes them, in the admin. The ID number needs its own consent (PIPL Art. 29),
is stored encrypted (members/pii.py), and its birth date and gender win over typed ones.
"""

import re
import unicodedata
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from members.models import Consent, DeliveryAddress, Interest, Member, MemberProfile
from members.national_id import NationalId, NationalIdError, national_id_parse
from members.pii import pii_blind_index, pii_encrypt

# The version of the notice shown beside the ID-number consent box; a new notice, a new version.
ID_CONSENT_POLICY_VERSION = "2026-11"
PRIVACY_POLICY_VERSION = "2026-12"  # templates/h5/members/privacy.html; a change needs a new one
MIN_AGE = 14  # PIPL Art. 28/31: younger members need a guardian's consent, at the service desk
MAX_AGE = 120
ADDRESSES_MAX = 20
# Chinese characters (with extension A) or Latin letters, then those, spaces and the middle dot.
NAME_PATTERN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fffA-Za-z][\u3400-\u4dbf\u4e00-\u9fffA-Za-z· ]*"
)

NATIONAL_ID_MESSAGES = {
    "legacy_15": _("Enter the 18-character number of your second-generation ID card."),
    "format": _("An ID number has 17 digits and then a digit or X."),
    "region": _("This ID number does not start with a valid region code."),
    "date": _("The birth date in this ID number does not exist."),
    "future": _("The birth date in this ID number is in the future."),
    "check_digit": _("This ID number is not valid; please check each digit."),
}
UNDER_AGE_MESSAGE = _(
    "Members under 14 need a parent or guardian's consent. Please come to the service desk "
    "together with a parent or guardian."
)
LOCKED_MESSAGE = _(
    "%(field)s is verified and cannot be changed here. Please ask the service desk to correct it."
)
FIELD_LABELS = {
    "name": _("Name"),
    "gender": _("Gender"),
    "phone": _("Mobile number"),
    "national_id": _("ID number"),
    "birthday": _("Birthday"),
}


class FieldLocked(ServiceError):
    code = "field_locked"


def locked_fields(member: Member) -> set[str]:
    """The identity fields of `member` that hold a value and so can no longer be changed here."""
    present = {
        "name": bool(member.name),
        "gender": member.gender != Member.Gender.UNKNOWN,
        "phone": bool(member.phone),
        "national_id": member.national_id_cipher is not None,
        "birthday": member.birthday is not None,
    }
    return {field for field, has_value in present.items() if has_value}


def locked_notice(field: str) -> str:
    """What a member is told on tapping a locked field."""
    return LOCKED_MESSAGE % {"field": FIELD_LABELS[field]}


def _locked(field: str) -> FieldLocked:
    return FieldLocked(LOCKED_MESSAGE, params={"field": FIELD_LABELS[field]})


def person_name_clean(value: str) -> str:
    """A person's name as on the ID card: Chinese characters, or Latin letters and spaces, and
    the middle dot of names such as 阿卜杜·热合曼. Invisible, control and symbol characters
    (zero-width spaces, right-to-left overrides, emoji, markup) are refused, not stripped."""
    name = unicodedata.normalize("NFKC", value or "").strip()
    name = re.sub(r"[・•‧⋅∙]", "·", name)  # the dots people type for 间隔号
    name = re.sub(r" {2,}", " ", name)
    if not 2 <= len(name) <= 32:
        raise ServiceError(_("Enter your name as on your ID card (2 to 32 characters)."))
    if not NAME_PATTERN.fullmatch(name):
        raise ServiceError(
            _("A name may contain Chinese characters, letters, spaces and the middle dot (·).")
        )
    if name.endswith("·") or "··" in name:
        raise ServiceError(_("The middle dot (·) goes between two parts of a name."))
    return name


def national_id_validate(value: str, *, today: date) -> NationalId:
    """The parsed ID number of a member aged 14 or more; ServiceError with the reason if not."""
    try:
        parsed = national_id_parse(value, today=today)
    except NationalIdError as exc:
        raise ServiceError(NATIONAL_ID_MESSAGES[exc.code], code=f"national_id_{exc.code}") from None
    if parsed.age_on(today) < MIN_AGE:
        raise ServiceError(UNDER_AGE_MESSAGE, code="under_14")
    return parsed


def birthday_validate(value: date, *, today: date) -> date:
    if value > today:
        raise ServiceError(_("Your birthday cannot be in the future."), code="birthday_future")
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if age > MAX_AGE:
        raise ServiceError(_("Please check the year of your birthday."), code="birthday_too_old")
    if age < MIN_AGE:
        raise ServiceError(UNDER_AGE_MESSAGE, code="under_14")
    return value


@transaction.atomic
def member_identity_set(
    *,
    member_id: int,
    name: str = "",
    gender: str = "",
    national_id: str = "",
    national_id_consent: bool = False,
) -> Member:
    """Fill the member's still-empty name, gender and ID number, which then lock.

    The ID number needs the separate consent, which is recorded with the notice's version; its
    birth date and gender win over typed ones and fill them in, and must agree with ones
    already locked. Locks the member row, so a field is set once even from two tabs.
    """
    member = Member.objects.select_for_update().get(pk=member_id)
    locked = locked_fields(member)
    today = timezone.localdate()
    changes: dict = {}
    if name:
        if "name" in locked:
            raise _locked("name")
        changes["name"] = person_name_clean(name)
    parsed = None
    if national_id:
        if "national_id" in locked:
            raise _locked("national_id")
        if not national_id_consent:
            raise ServiceError(
                _("Please agree to the processing of your ID number, or leave it empty."),
                code="consent_required",
            )
        parsed = national_id_validate(national_id, today=today)
        if "birthday" in locked and member.birthday != parsed.birth_date:
            raise ServiceError(_mismatch_message(), code="national_id_mismatch")
        if "gender" in locked and member.gender != parsed.gender:
            raise ServiceError(_mismatch_message(), code="national_id_mismatch")
        gender = parsed.gender
        changes["birthday"] = parsed.birth_date
    if gender and gender != member.gender:
        if "gender" in locked:
            raise _locked("gender")
        if gender not in (Member.Gender.MALE, Member.Gender.FEMALE):
            raise ServiceError(_("Choose male or female."), code="gender_invalid")
        changes["gender"] = gender
    if not changes:
        raise ServiceError(_("There is nothing to save."), code="nothing_to_save")
    for field, value in changes.items():
        setattr(member, field, value)
    update_fields = list(changes)
    if parsed is not None:
        index = pii_blind_index(parsed.number, kind="national_id")
        if Member.objects.filter(national_id_index=index).exclude(pk=member.pk).exists():
            raise _national_id_taken()
        member.national_id_cipher = pii_encrypt(parsed.number, context=member.national_id_context)
        member.national_id_index = index
        update_fields += ["national_id_cipher", "national_id_index"]
    try:
        with transaction.atomic():
            member.save(update_fields=update_fields)
    except IntegrityError:
        raise _national_id_taken() from None  # the same number saved by someone else just now
    if parsed is not None:
        Consent.objects.create(
            member=member,
            purpose=Consent.Purpose.NATIONAL_ID,
            policy_version=ID_CONSENT_POLICY_VERSION,
        )
    return member


def _mismatch_message():
    return _(
        "This ID number does not match the birthday or gender on your membership. Please ask "
        "the service desk."
    )


def _national_id_taken() -> ServiceError:
    return ServiceError(
        _("This ID number already belongs to another membership. Please ask the service desk."),
        code="national_id_taken",
    )


@transaction.atomic
def member_profile_update(
    *,
    member_id: int,
    birthday: date | None = None,
    education: str = "",
    occupation: str = "",
    income_band: str = "",
    interests: list[Interest] | None = None,
) -> MemberProfile:
    """Save the extended profile; a birthday is taken once, when none is on file, and then
    locks (so birthday coupons cannot be farmed by moving it). Locks the member row."""
    member = Member.objects.select_for_update(no_key=True).get(pk=member_id)
    if birthday is not None and birthday != member.birthday:
        if member.birthday is not None:
            raise _locked("birthday")
        member.birthday = birthday_validate(birthday, today=timezone.localdate())
        member.save(update_fields=["birthday"])
    profile, _created = MemberProfile.objects.get_or_create(member=member)
    profile.education = education
    profile.occupation = occupation
    profile.income_band = income_band
    profile.updated_at = timezone.now()
    profile.full_clean(exclude=["member"])
    profile.save(update_fields=["education", "occupation", "income_band", "updated_at"])
    profile.interests.set([i for i in interests or [] if i.active])
    return profile


@transaction.atomic
def address_create(
    *, member_id: int, recipient: str, phone: str, region: str, detail: str, is_default: bool
) -> DeliveryAddress:
    """Add a delivery address; the first one, or one marked so, becomes the default. Locks the
    member row, so there is always at most one default."""
    member = Member.objects.select_for_update(no_key=True).get(pk=member_id)
    existing = member.addresses.count()
    if existing >= ADDRESSES_MAX:
        raise ServiceError(
            _("You can keep at most %(count)s addresses."),
            code="too_many_addresses",
            params={"count": ADDRESSES_MAX},
        )
    make_default = is_default or existing == 0
    if make_default:
        member.addresses.filter(is_default=True).update(is_default=False)
    address = DeliveryAddress(
        member=member,
        recipient=recipient,
        phone=phone,
        region=region,
        detail=detail,
        is_default=make_default,
    )
    address.full_clean()
    address.save()
    return address


@transaction.atomic
def address_update(
    *,
    member_id: int,
    address_id: int,
    recipient: str,
    phone: str,
    region: str,
    detail: str,
    is_default: bool,
) -> DeliveryAddress:
    """Change one of the member's own addresses (DeliveryAddress.DoesNotExist for anyone
    else's). Unticking the default keeps it: another address has to be made the default."""
    member = Member.objects.select_for_update(no_key=True).get(pk=member_id)
    address = member.addresses.get(pk=address_id)
    if is_default and not address.is_default:
        member.addresses.filter(is_default=True).update(is_default=False)
        address.is_default = True
    address.recipient, address.phone, address.region, address.detail = (
        recipient,
        phone,
        region,
        detail,
    )
    address.updated_at = timezone.now()
    address.full_clean()
    address.save()
    return address


@transaction.atomic
def address_delete(*, member_id: int, address_id: int) -> None:
    """Delete one of the member's own addresses; if it was the default, the newest remaining
    one becomes the default. DeliveryAddress.DoesNotExist for anyone else's."""
    member = Member.objects.select_for_update(no_key=True).get(pk=member_id)
    address = member.addresses.get(pk=address_id)
    address.delete()
    if address.is_default:
        successor = member.addresses.order_by("-created_at", "-id").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


@transaction.atomic
def national_id_consent_withdraw(*, member_id: int) -> Member:
    """撤回授权 (PIPL Art. 15): the member withdraws the consent to process their ID number;
    the number is erased (ciphertext and blind index) and the consent marked withdrawn, so it
    may be given again later. Name, gender and birthday stay. Locks the member row."""
    from core.audit import audit_log

    member = Member.objects.select_for_update().get(pk=member_id)
    if member.national_id_cipher is None:
        raise ServiceError(_("No ID number is stored."), code="nothing_to_withdraw")
    member.national_id_cipher = member.national_id_index = None
    member.save(update_fields=["national_id_cipher", "national_id_index"])
    Consent.objects.filter(
        member=member, purpose=Consent.Purpose.NATIONAL_ID, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())
    audit_log(actor=None, action="members.national_id.consent_withdrawn", target=member)
    return member
