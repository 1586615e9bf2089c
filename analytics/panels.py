"""Analytics' panels on the back office's member page (registered in analytics/apps.py)."""

from analytics.models import ClvScore, MemberTag, Tag
from analytics.predicted_value import clv_run_current
from members.panels import MemberPanel


def clv_member_panel(*, member, user) -> MemberPanel | None:
    """The member's predicted value in the current run, for staff who may view it."""
    if not user.has_perm("analytics.view_clvscore"):
        return None
    run = clv_run_current()
    if run is None:
        return None
    score = ClvScore.objects.filter(run=run, member=member).first()
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
