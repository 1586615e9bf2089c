from django import template

from loyalty.models import PointsAccount
from loyalty.tiers import tier_of

register = template.Library()


@register.simple_tag
def loyalty_status(member) -> dict:
    """The member's tier and points, for the member card page."""
    account = PointsAccount.objects.filter(member=member).select_related("tier").first()
    return {"tier": tier_of(account), "points": account.balance if account else 0}
