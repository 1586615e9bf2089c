from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import ServiceError
from members.cards import card_no_random
from members.models import Member, Store

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
