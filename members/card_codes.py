"""Dynamic member codes for the till: issue one for the member's card page, resolve one for
the POS API. Rendered as a QR code (segno) and a Code 128 barcode (python-barcode)."""

import io
import secrets
from datetime import timedelta

import barcode
import segno
from barcode.writer import SVGWriter
from django.db import IntegrityError, transaction
from django.utils import timezone

from members.models import Member, MemberCardCode

CODE_PREFIX = "66"
CODE_TTL = timedelta(seconds=90)
REFRESH_SECONDS = 60


def card_code_issue(*, member: Member) -> MemberCardCode:
    """A fresh code for `member`; the member's expired codes are cleared on the way."""
    now = timezone.now()
    MemberCardCode.objects.filter(member=member, expires_at__lt=now).delete()
    while True:
        code = CODE_PREFIX + f"{secrets.randbelow(10**16):016d}"
        try:
            with transaction.atomic():
                return MemberCardCode.objects.create(
                    code=code, member=member, created_at=now, expires_at=now + CODE_TTL
                )
        except IntegrityError:  # 1 in 10^16 per live code: draw again
            continue


def card_code_resolve(*, code: str) -> Member | None:
    """The active member a still-valid code stands for, else None."""
    code = (code or "").strip()
    if len(code) != 18 or not code.isdigit():
        return None
    found = (
        MemberCardCode.objects.select_related("member")
        .filter(code=code, expires_at__gt=timezone.now(), member__status=Member.Status.ACTIVE)
        .first()
    )
    return found.member if found else None


def qr_svg(code: str) -> str:
    return segno.make(code, error="m").svg_inline(scale=6, border=2, omitsize=True)


def barcode_svg(code: str) -> str:
    out = io.BytesIO()
    barcode.get("code128", code, writer=SVGWriter()).write(
        out,
        options={
            "write_text": False,
            "module_width": 0.42,
            "module_height": 16.0,
            "quiet_zone": 1.0,
        },
    )
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]
