"""Dynamic member codes for the till: issue one for the member's card page, resolve one for
the POS API. Rendered as a QR code (segno) and a Code 128 barcode (python-barcode)."""

import io
import secrets
from datetime import timedelta

import barcode
import segno
from barcode.writer import SVGWriter
from django.db import connection
from django.utils import timezone

from members.models import Member, MemberCardCode

CODE_PREFIX = "66"
CODE_TTL = timedelta(seconds=90)
REFRESH_SECONDS = 60


def card_code_issue(*, member: Member) -> MemberCardCode:
    """A fresh code for `member`; the member's expired codes are cleared on the way, in the
    same statement."""
    now = timezone.now()
    table = MemberCardCode._meta.db_table
    while True:
        card_code = MemberCardCode(
            code=CODE_PREFIX + f"{secrets.randbelow(10**16):016d}",
            member=member,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH expired AS (DELETE FROM {table} WHERE member_id = %s AND expires_at < %s)"  # noqa: S608
                f" INSERT INTO {table} (code, member_id, created_at, expires_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (code) DO NOTHING RETURNING id",
                [member.pk, now, card_code.code, member.pk, now, card_code.expires_at],
            )
            row = cursor.fetchone()
        if row is not None:  # else the code is live already (1 in 10^16): draw again
            card_code.pk = row[0]
            return card_code


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
