from django import template

register = template.Library()


@register.filter
def yuan(amount_fen) -> str:
    """12345 -> "123.45": fen shown as yuan with two decimals, never through a float."""
    if amount_fen in (None, ""):
        return ""
    fen = int(amount_fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
