"""Analytics' panels on the member 360, the back office's member page (members/panels.py;
registered in analytics/apps.py): the member's RFM history across snapshots, their lifecycle
stage and its changes, and their predicted value. Staff without analytics' permissions see
none of them."""

from analytics.models import (
    ClvScore,
    LifecycleChange,
    LifecycleStage,
    MemberTag,
    RfmRow,
    RfmSnapshot,
    Tag,
)
from analytics.predicted_value import clv_run_current
from members.panels import MemberPanel

HISTORY = 12  # snapshots shown
CHANGES = 10

_STAGES = dict(LifecycleStage.choices)


def _history(member) -> list[RfmRow]:
    """The member's rows in the latest snapshots, newest first; read once per page and shared
    by the RFM and lifecycle panels (kept on the member object the page passes to both)."""
    if "_rfm_history" not in member.__dict__:
        member._rfm_history = list(
            RfmRow.objects.filter(member=member, snapshot__status=RfmSnapshot.Status.DONE)
            .select_related("snapshot")
            .order_by("-snapshot__as_of", "-snapshot_id")[:HISTORY]
        )
    return member._rfm_history


def rfm_member_panel(*, member, user) -> MemberPanel | None:
    """The member's row in each of the latest snapshots: class, R, F, M, scores and stage,
    newest first, and the scores' chart oldest first."""
    if not user.has_perm("analytics.view_rfmrow"):
        return None
    rows = _history(member)
    chart = [
        {
            "as_of": row.snapshot.as_of.isoformat(),
            "r": row.r_score,
            "f": row.f_score,
            "m": row.m_score,
            "class": row.rfm_class,
        }
        for row in reversed(rows)
    ]
    return MemberPanel(
        "backoffice/analytics/includes/_rfm_member.html",
        {"rows": rows, "chart": chart, "member_id": member.pk},
        wide=True,
    )


def lifecycle_member_panel(*, member, user) -> MemberPanel | None:
    """The member's stage in the current snapshot and their stage changes, newest first."""
    if not user.has_perm("analytics.view_rfmrow"):
        return None
    current = next((row for row in _history(member) if row.snapshot.is_current), None)
    changes = [
        {
            "as_of": change.snapshot.as_of,
            "from": _STAGES.get(change.from_stage, ""),
            "to": _STAGES.get(change.to_stage, ""),
        }
        for change in LifecycleChange.objects.filter(member=member)
        .select_related("snapshot")
        .order_by("-snapshot__as_of", "-snapshot_id")[:CHANGES]
    ]
    return MemberPanel(
        "backoffice/analytics/includes/_lifecycle_member.html",
        {"current": current, "changes": changes},
    )


def clv_member_panel(*, member, user) -> MemberPanel | None:
    """The member's predicted value in the current run, for staff who may view it."""
    if not user.has_perm("analytics.view_clvscore"):
        return None
    score = ClvScore.objects.filter(run__is_current=True, member=member).select_related("run")
    score = score.first()
    run = score.run if score is not None else clv_run_current()
    if run is None:
        return None
    return MemberPanel(
        "backoffice/analytics/includes/_clv_member.html", {"run": run, "score": score}
    )


def tags_member_panel(*, member, user) -> MemberPanel | None:
    """The member's tags, with manual ones to add and take off, for staff who may see tags."""
    if not user.has_perm("analytics.view_tag"):
        return None
    tagged = list(
        MemberTag.objects.filter(member=member).select_related("tag").order_by("tag__name")
    )
    return MemberPanel(
        "backoffice/analytics/includes/_tags_member.html",
        {
            "member": member,
            "tagged": tagged,
            "can_add": user.has_perm("analytics.add_membertag"),
            "can_remove": user.has_perm("analytics.delete_membertag"),
            "manual_tags": Tag.objects.filter(kind=Tag.Kind.MANUAL).exclude(
                pk__in=[t.tag_id for t in tagged]
            ),
        },
    )
