from django import template

from loyalty.models import PointsAccount, Tier

register = template.Library()


@register.simple_tag
def loyalty_status(member) -> dict:
    """The member's tier and points, for the member card page."""
    account = PointsAccount.objects.filter(member=member).select_related("tier").first()
    tier = (account.tier if account else None) or Tier.objects.order_by("threshold").first()
    return {"tier": tier, "points": account.balance if account else 0}
