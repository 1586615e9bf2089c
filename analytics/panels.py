"""Analytics' panels on the back office's member page (registered in analytics/apps.py)."""

from analytics.models import ClvScore
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
