"""Reads of member data: lookups, the back-office search, the profile's completeness."""

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.cards import card_no_is_valid
from members.forms import normalise_phone
from members.models import Member, MemberProfile
from members.national_id import NationalIdError, national_id_parse
from members.pii import pii_blind_index


def member_by_national_id(number: str, *, queryset: QuerySet | None = None) -> Member | None:
    """The member holding this ID number, found through its blind index (no decryption)."""
    try:
        parsed = national_id_parse(number, today=timezone.localdate())
    except NationalIdError:
        return None
    queryset = Member.objects.all() if queryset is None else queryset
    return queryset.filter(
        national_id_index=pii_blind_index(parsed.number, kind="national_id")
    ).first()


def members_search(queryset: QuerySet, query: str) -> QuerySet:
    """`queryset` narrowed to an exact card number, phone or ID number; no partial matches,
    so the search cannot be used to list phone numbers by prefix. A query that could be more
    than one of them (an imported card "13812345678") finds each."""
    query = (query or "").strip()
    if not query:
        return queryset
    found = Q(pk__in=[])
    # Cards hold no white space: "8812 3456 7890" is how the system's own are printed.
    card = re.sub(r"\s", "", query)
    if card_no_is_valid(card):
        found |= Q(card_no=card)
    phone = normalise_phone(query)
    if re.fullmatch(r"1\d{10}", phone):
        found |= Q(phone=phone)
    member = member_by_national_id(query, queryset=queryset)
    if member is not None:
        found |= Q(pk=member.pk)
    return queryset.filter(found)


@dataclass(frozen=True)
class Completeness:
    percent: int
    missing: list[str]


def member_profile_completeness(*, member: Member) -> Completeness:
    """How much of the profile is filled in, and the labels of what is missing. The ID number
    is left out on purpose: it is optional (minimum necessary), not something to nudge for."""
    profile = MemberProfile.objects.filter(member=member).first()
    checks = [
        (_("Name"), bool(member.name)),
        (_("Gender"), member.gender != Member.Gender.UNKNOWN),
        (_("Birthday"), member.birthday is not None),
        (_("Education"), bool(profile and profile.education)),
        (_("Occupation"), bool(profile and profile.occupation)),
        (_("Monthly income"), bool(profile and profile.income_band)),
        (_("Interests"), bool(profile and profile.interests.exists())),
        (_("Delivery address"), member.addresses.exists()),
    ]
    done = sum(1 for _label, ok in checks if ok)
    return Completeness(
        percent=round(100 * done / len(checks)),
        missing=[label for label, ok in checks if not ok],
    )
