from django import template

from core.navigation import nav_for
from core.roles import Role

register = template.Library()


@register.simple_tag(takes_context=True)
def backoffice_nav(context):
    request = context["request"]
    return nav_for(request.user, request.path)


@register.simple_tag
def role_labels(user) -> str:
    labels = dict(Role.choices)
    names = [str(labels[g.name]) for g in user.groups.all() if g.name in labels]
    return " / ".join(names)
