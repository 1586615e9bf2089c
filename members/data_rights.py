"""A member's rights over their data: a copy of everything we hold about them (PIPL Art. 45)
and deletion of their account (注销, Art. 47). What the apps above members hold of a member
(receipts, points, …) they add through the hooks in members/signals.py."""

from django.db import transaction
from django.utils import timezone

from core.audit import audit_log
from core.retry import retry_on_deadlock
from members.models import Member, MemberProfile, SmsCode
from members.otp import sms_code_use
from members.signals import member_data_erasers, member_data_exporters


def member_data_export(*, member: Member) -> dict:
    """Everything held about `member`, as plain JSON-ready data; no other member's data."""
    profile = MemberProfile.objects.filter(member=member).first()
    data = {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "card_no": member.card_no,
            "name": member.name,
            "phone": member.phone,
            "gender": member.gender,
            "birthday": member.birthday.isoformat() if member.birthday else None,
            # Masked even here: a download is easily forwarded, and the member knows the number.
            "national_id": member.national_id_masked or None,
            "home_store": member.home_store.code if member.home_store else None,
            "registration_channel": member.channel,
            "registered_at": member.registered_at.isoformat(),
            "status": member.status,
        },
        "extended_profile": {
            "education": profile.education,
            "occupation": profile.occupation,
            "income_band": profile.income_band,
            "interests": [i.name for i in profile.interests.all()],
            "updated_at": profile.updated_at.isoformat(),
        }
        if profile
        else None,
        "addresses": [
            {
                "recipient": a.recipient,
                "phone": a.phone,
                "region": a.region,
                "detail": a.detail,
                "default": a.is_default,
            }
            for a in member.addresses.all()
        ],
        "consents": [
            {
                "purpose": c.purpose,
                "policy_version": c.policy_version,
                "granted_at": c.granted_at.isoformat(),
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in member.consents.order_by("granted_at")
        ],
        "marketing_opt_outs": [
            {"channel": o.channel, "source": o.source, "at": o.created_at.isoformat()}
            for o in member.opt_outs.order_by("created_at")
        ],
        "wechat": [
            {
                "openid": i.openid,
                "unionid": i.unionid,
                "nickname": i.nickname,
                "first_seen": i.created_at.isoformat(),
            }
            for i in member.wechat_identities.all()
        ],
        "messages": [
            {
                "kind": m.kind,
                "title": m.title,
                "body": m.body,
                "sent_at": m.created_at.isoformat(),
                "read_at": m.read_at.isoformat() if m.read_at else None,
            }
            for m in member.messages.order_by("created_at")
        ],
    }
    for key, export in member_data_exporters().items():  # loyalty's receipts, …
        data[key] = export(member)
    return data


@transaction.atomic
def member_delete(*, member_id: int) -> Member:
    """注销账号: erase the member's personal data for good and close the membership.

    Name, phone, gender, birthday and the ID number (ciphertext and blind index) are blanked;
    the extended profile, addresses, consents, marketing opt-outs, inbox, till codes, SMS codes
    and WeChat identities are deleted, so the same WeChat user or phone can later join afresh.
    The row itself stays, as an anonymous surrogate that receipts and the points ledger keep
    pointing at, so totals still reconcile. Writes an audit row; locks the member row.
    """
    # NO KEY UPDATE: a till's receipt or a redemption holding the points account and waiting
    # for FOR KEY SHARE on this row would deadlock against FOR UPDATE (the final save, which
    # blanks the unique phone, still takes FOR UPDATE: member_delete_by_code retries).
    member = Member.objects.select_for_update(no_key=True).get(pk=member_id)
    if member.closed_at is not None:
        return member  # deleted already
    deleted = {
        "addresses": member.addresses.all().delete()[0],
        "consents": member.consents.all().delete()[0],
        "marketing_opt_outs": member.opt_outs.all().delete()[0],
        "messages": member.messages.all().delete()[0],
        "wechat_identities": member.wechat_identities.all().delete()[0],
        "card_codes": member.card_codes.all().delete()[0],
        "extended_profile": MemberProfile.objects.filter(member=member).delete()[0],
    }
    if member.phone:
        SmsCode.objects.filter(phone=member.phone).delete()
    for erase in member_data_erasers():  # loyalty forfeits the points, erases claim photos
        deleted.update(erase(member_id=member.pk))
    member.name = ""
    member.phone = None
    member.gender = Member.Gender.UNKNOWN
    member.birthday = None
    member.national_id_cipher = None
    member.national_id_index = None
    member.status = Member.Status.CLOSED
    member.closed_at = timezone.now()
    member.save(
        update_fields=[
            "name",
            "phone",
            "gender",
            "birthday",
            "national_id_cipher",
            "national_id_index",
            "status",
            "closed_at",
        ]
    )
    audit_log(
        actor=None,
        action="members.member.deleted",
        target=member,
        data={"requested_by": "member", "deleted": deleted},
    )
    return member


@retry_on_deadlock
def member_delete_by_code(*, member_id: int, code: str) -> Member:
    """注销账号 confirmed by the SMS code sent to the bound phone: the code check and the
    deletion (member_delete) in one transaction, so a deletion that fails leaves the code
    usable and a wrong code deletes nothing. Locks the code row, then the member's."""
    phone = Member.objects.filter(pk=member_id).values_list("phone", flat=True).get()
    return sms_code_use(
        phone=phone or "",
        purpose=SmsCode.Purpose.DELETE_ACCOUNT,
        code=code,
        then=lambda: member_delete(member_id=member_id),
    )
