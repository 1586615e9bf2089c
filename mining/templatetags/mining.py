"""Filters of the mining pages: ratios as percentages, bytes as MB, milliseconds as seconds."""

from django import template

register = template.Library()


@register.filter
def percent(value, digits=1):
    """0.1234 → "12.3%" ("—" for none)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def megabytes(value):
    if value is None:
        return "—"
    return f"{value / 1048576:.0f}"


@register.filter
def seconds(value):
    if value is None:
        return "—"
    return f"{value / 1000:.1f}"


@register.filter
def metric(value, digits=3):
    """A lift, leverage or conviction with `digits` decimals; None (an infinite conviction)
    as ∞."""
    if value is None:
        return "∞"
    return f"{float(value):.{int(digits)}f}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
