"""A member's rights over their data: a copy of everything we hold about them (PIPL Art. 45)."""

from django.utils import timezone

from loyalty.models import Receipt
from members.models import Member


def member_data_export(*, member: Member) -> dict:
    """Everything held about `member`, as plain JSON-ready data; no other member's data."""
    receipts = (
        Receipt.objects.filter(member=member)
        .select_related("store")
        .prefetch_related("lines")
        .order_by("occurred_at")
    )
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "card_no": member.card_no,
            "name": member.name,
            "phone": member.phone,
            "gender": member.gender,
            "birthday": member.birthday.isoformat() if member.birthday else None,
            "home_store": member.home_store.code if member.home_store else None,
            "registration_channel": member.channel,
            "registered_at": member.registered_at.isoformat(),
            "status": member.status,
        },
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
        "receipts": [
            {
                "store": r.store.code,
                "pos_no": r.pos_no,
                "receipt_no": r.receipt_no,
                "time": r.occurred_at.isoformat(),
                "kind": r.kind,
                "total_fen": r.total_fen,
                "lines": [
                    {
                        "name": line.name,
                        "spec": line.spec,
                        "brand": line.brand_name,
                        "qty": str(line.qty),
                        "amount_fen": line.amount_fen,
                    }
                    for line in r.lines.all()
                ],
            }
            for r in receipts
        ],
    }
