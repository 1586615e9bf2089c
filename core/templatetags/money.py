from django import template

from core.money import fen_to_display, fen_to_yuan

register = template.Library()


@register.filter
def yuan(amount_fen) -> str:
    """12345 -> "123.45": fen shown as yuan with two decimals (core.money.fen_to_yuan)."""
    if amount_fen in (None, ""):
        return ""
    return fen_to_yuan(amount_fen)


@register.filter
def money(amount_fen) -> str:
    """12345 -> "¥123.45", -50 -> "-¥0.50" (core.money.fen_to_display)."""
    if amount_fen in (None, ""):
        return ""
    return fen_to_display(amount_fen)
