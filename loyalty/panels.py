"""Loyalty's panels on the member 360 (members/panels.py; registered in loyalty/apps.py): the
tier with the gap to the next one, the points balance with the latest ledger entries, and the
latest receipts."""

from django.db.models import Count, Max, Q, Sum, Window
from django.urls import reverse

from loyalty import selectors
from loyalty.models import Receipt
from loyalty.tiers import tier_progress
from members.panels import MemberPanel

RECENT = 5


def points_member_panel(*, member, user) -> MemberPanel | None:
    """Tier, gap, balance; the latest entries and the ledger's link for staff who may read it."""
    if not user.has_perm("loyalty.view_pointsaccount"):
        return None
    account = selectors.account_of(member)
    can_ledger = user.has_perm("loyalty.view_pointsentry")
    entries = list(selectors.member_entries(member=member)[:RECENT]) if can_ledger else None
    return MemberPanel(
        "backoffice/loyalty/includes/_points_member.html",
        {
            "account": account,
            "progress": tier_progress(member=member, account=account),
            "entries": entries,
            "ledger_url": reverse("backoffice:member_points", args=[member.pk])
            if can_ledger
            else "",
        },
    )


def receipts_member_panel(*, member, user) -> MemberPanel | None:
    """The member's latest receipts with their lines and points, and their totals."""
    if not user.has_perm("loyalty.view_receipt"):
        return None
    sale, refund = Receipt.Kind.SALE, Receipt.Kind.REFUND
    # the totals as window aggregates over all the member's receipts: one query with the list
    totals = {
        "sales": Count("id", filter=Q(kind=sale)),
        "refunds": Count("id", filter=Q(kind=refund)),
        "sales_fen": Sum("total_fen", filter=Q(kind=sale)),
        "refunds_fen": Sum("total_fen", filter=Q(kind=refund)),
        "last_at": Max("occurred_at", filter=Q(kind=sale)),
    }
    receipts = list(
        selectors.member_receipts(member=member).annotate(
            **{f"all_{name}": Window(total) for name, total in totals.items()}
        )[:RECENT]
    )
    figures = {"sales": 0, "refunds": 0, "sales_fen": 0, "refunds_fen": 0, "last_at": None}
    if receipts:
        figures = {name: getattr(receipts[0], f"all_{name}") for name in totals}
        figures["sales_fen"] = figures["sales_fen"] or 0  # a SUM over no row is NULL
        figures["refunds_fen"] = figures["refunds_fen"] or 0
    can_ledger = user.has_perm("loyalty.view_pointsentry")
    return MemberPanel(
        "backoffice/loyalty/includes/_receipts_member.html",
        {
            "receipts": receipts,
            "totals": {
                **figures,
                "net_fen": figures["sales_fen"] - figures["refunds_fen"],
            },
            "receipts_url": reverse("backoffice:member_points", args=[member.pk]) + "#receipts"
            if can_ledger
            else "",
        },
        wide=True,
    )
