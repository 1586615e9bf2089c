"""Marketing consent (退订): members turn marketing SMS or marketing messages off, on the
settings page or by replying to an SMS; every marketing SMS ends with how to reply.

Only marketing sends (analytics' group actions) consult this; verification codes and
other transactional texts go out regardless.
"""

import re
import unicodedata

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from members.models import MarketingOptOut, Member

# The one wording every marketing SMS ends with, and the replies that opt out
SMS_OPT_OUT_FOOTER = _("Reply R to opt out")
SMS_OPT_OUT_REPLIES = {"R", "T", "TD", "N", "退订", "拒收"}


def marketing_opt_out(*, member: Member, channel: str, source: str) -> MarketingOptOut:
    """Record that `member` wants no marketing on `channel` (idempotent)."""
    opt_out, _created = MarketingOptOut.objects.get_or_create(
        member=member, channel=channel, defaults={"source": source}
    )
    return opt_out


def marketing_opt_in(*, member: Member, channel: str) -> None:
    """`member` takes marketing on `channel` again."""
    MarketingOptOut.objects.filter(member=member, channel=channel).delete()


def marketing_preferences_set(*, member: Member, sms: bool, wechat: bool, source: str) -> None:
    """The settings page: True means the member receives that channel's marketing."""
    with transaction.atomic():
        for channel, wanted in (
            (MarketingOptOut.Channel.SMS, sms),
            (MarketingOptOut.Channel.WECHAT, wechat),
        ):
            if wanted:
                marketing_opt_in(member=member, channel=channel)
            else:
                marketing_opt_out(member=member, channel=channel, source=source)


def marketing_opted_out(*, member: Member) -> set[str]:
    """The channels `member` opted out of."""
    return set(MarketingOptOut.objects.filter(member=member).values_list("channel", flat=True))


def sms_reply_receive(*, phone: str, text: str) -> bool:
    """An SMS reply from `phone` (the gateway's uplink): an opt-out word ("R", "TD", 退订…)
    opts every active member with that phone out of marketing SMS. True if it did."""
    word = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()
    if word not in SMS_OPT_OUT_REPLIES:
        return False
    members = Member.objects.filter(phone=phone, status=Member.Status.ACTIVE)
    for member in members:
        marketing_opt_out(
            member=member,
            channel=MarketingOptOut.Channel.SMS,
            source=MarketingOptOut.Source.SMS_REPLY,
        )
    return members.exists()
