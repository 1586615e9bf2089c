"""Customer service's panel on the member 360 (members/panels.py slot 900; registered in
feedback/apps.py): the member's tickets within the staff member's store scope, with links to
the workbench."""

from django.db.models import Count, Window

from feedback.models import Ticket
from members.panels import MemberPanel
from stores.scoping import scoped

RECENT = 10


def tickets_member_panel(*, member, user) -> MemberPanel | None:
    """The member's latest tickets (number, type, status, date, rating) and how many there
    are, in one query; nothing for staff who do not see tickets, or when there are none."""
    if not user.has_perm("feedback.view_ticket"):
        return None
    tickets = list(
        scoped(Ticket.objects.filter(member=member), user=user, store_field="store")
        .select_related("ticket_type", "store", "rating")
        .annotate(all_count=Window(Count("id")))
        .order_by("-created_at", "-pk")[:RECENT]
    )
    if not tickets:
        return None
    return MemberPanel(
        "backoffice/feedback/includes/_tickets_member.html",
        {"tickets": tickets, "total": tickets[0].all_count},
        wide=True,
    )
