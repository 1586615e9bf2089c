from django import template

from loyalty.selectors import member_standing

register = template.Library()


@register.simple_tag
def loyalty_status(member) -> dict:
    """The member's tier and points, for the member card page."""
    points, tier = member_standing(member)
    return {"tier": tier, "points": points}
