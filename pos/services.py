"""The till's writes: terminals, member lookups and receipts with the coupons they use.

pos sits above loyalty and coupons, so this is where a till's receipt earns its points and
uses its coupons in one transaction: loyalty, below coupons, never calls coupons itself.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

from core.audit import audit_log
from core.masking import mask_phone
from core.retry import retry_on_deadlock
from coupons.redeeming import ReceiptCouponRefused, receipt_coupons_use
from loyalty.models import Receipt
from loyalty.receipts import ReceiptIn, ReceiptInvalid, receipt_record
from members.card_codes import card_code_resolve
from members.models import Member
from pos.models import PosTerminal
from stores.models import Store


def pos_terminal_create(*, store: Store, name: str) -> PosTerminal:
    """A new till for `store` with a fresh id and secret (the secret is shown once)."""
    return PosTerminal.objects.create(
        terminal_id=f"pos_{secrets.token_hex(8)}",
        store=store,
        name=name,
        secret=secrets.token_hex(32),
    )


def pos_member_resolve(*, terminal: PosTerminal, by: str, value: str) -> Member | None:
    """The active member a till looks up `by` "qr_token", "card_no" or "phone", or None. A
    lookup by phone is audited (terminal, store, member or not found), the phone masked and
    kept as a keyed digest, so the lookups of one number can be found without storing it."""
    member = None
    if by == "qr_token":
        member = card_code_resolve(code=value)
    elif len(value) <= 32:
        member = Member.objects.filter(**{by: value}, status=Member.Status.ACTIVE).first()
    if by == "phone":
        audit_log(
            actor=None,
            action="loyalty.pos.member_looked_up_by_phone",
            target=member,
            data={
                "terminal": terminal.terminal_id,
                "store": terminal.store.code,
                "phone": mask_phone(value[:20]),
                "phone_digest": phone_digest(value),
                "found": member is not None,
            },
        )
    return member


def phone_digest(phone: str) -> str:
    """A keyed digest of a phone number: equal for equal numbers, useless without the key."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"phone:{phone}".encode(), hashlib.sha256).hexdigest()[:32]


@retry_on_deadlock
def pos_receipt_record(
    *,
    data: ReceiptIn,
    coupons: list[str],
    payload_hash: str,
    terminal: PosTerminal,
    replay_checked: bool = False,
) -> tuple[Receipt, bool]:
    """A till's receipt: recorded with its points (loyalty's receipt_record) and the coupons it
    names used for it (coupons' receipt_coupons_use), in one transaction: a coupon that cannot
    be used rolls the whole receipt back (ReceiptInvalid on `coupons.N`). Returns (receipt,
    created); a replay uses nothing again. Locks as receipt_record, then the coupon rows.
    `replay_checked`: the caller has just called receipt_replay and found nothing."""

    def use_coupons(receipt: Receipt) -> dict:
        if not coupons:
            return {}
        try:
            used = receipt_coupons_use(
                receipt=receipt,
                codes=coupons,
                lines=[
                    {"brand": x.brand, "category": x.category, "amount_fen": x.amount_fen}
                    for x in data.lines
                ],
            )
        except ReceiptCouponRefused as refused:
            raise ReceiptInvalid({f"coupons.{refused.index}": refused.reason}) from None
        return {"coupons": used}

    return receipt_record(
        data=data,
        payload_hash=payload_hash,
        terminal=terminal,
        replay_checked=replay_checked,
        then=use_coupons,
    )
