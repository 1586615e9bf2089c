import nh3
from django import template
from django.utils.safestring import mark_safe

register = template.Library()

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "a", "h3", "h4", "span"}


@register.filter
def rich_text(html: str) -> str:
    """Staff-edited rich text (tier benefits, notices) cleaned to a safe set of tags."""
    return mark_safe(nh3.clean(html or "", tags=ALLOWED_TAGS, link_rel="noopener"))  # noqa: S308
