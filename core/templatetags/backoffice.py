from django import template
from django.utils.html import format_html

from core.navigation import nav_for
from core.once import FIELD, once_token_new
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


@register.simple_tag
def once_token():
    """The hidden one-time token of a form whose view is wrapped in core.once.submit_once."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, once_token_new())
