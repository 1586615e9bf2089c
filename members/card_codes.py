"""Dynamic member codes for the till: issue one for the member's card page, resolve one for
the POS API. Rendered as a QR code (segno) and a Code 128 barcode (python-barcode)."""

import re
import secrets
from datetime import timedelta

import barcode
import segno
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


# Code 128 drawn as in python-barcode's SVG writer (0.42 mm modules, 16 mm bars, 1 mm quiet
# zone), as one path instead of a DOM of rectangles: a tenth of the time on every card page.
MODULE_MM = 0.42
BAR_MM = 16.0
QUIET_MM = 1.0


def barcode_modules(code: str) -> str:
    """The Code 128 symbol of `code` as modules, '1' a bar and '0' a space."""
    return barcode.get("code128", code).build()[0]


def barcode_svg(code: str) -> str:
    modules = barcode_modules(code)
    runs, x = [], 0
    for width in (len(run) for run in re.findall(r"1+|0+", modules)):
        if modules[x] == "1":
            runs.append(f"M{x} 0h{width}v1h-{width}z")
        x += width
    quiet = QUIET_MM / MODULE_MM
    width_mm = len(modules) * MODULE_MM + 2 * QUIET_MM
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm:.3f}mm"'
        f' height="{BAR_MM + 2 * QUIET_MM:.3f}mm" viewBox="{-quiet:.4f} {-QUIET_MM / BAR_MM:.4f}'
        f' {len(modules) + 2 * quiet:.4f} {1 + 2 * QUIET_MM / BAR_MM:.4f}"'
        f' preserveAspectRatio="none" shape-rendering="crispEdges">'
        f'<rect x="{-quiet:.4f}" y="{-QUIET_MM / BAR_MM:.4f}" width="100%" height="100%"'
        f' fill="#fff"/><path fill="#000" d="{"".join(runs)}"/></svg>'
    )
