"""Money is integer fen (分) everywhere; these turn it into yuan for people, exactly (never
through a float), negative amounts included."""


def fen_to_yuan(fen: int, *, grouping: bool = True) -> str:
    """123456 -> "1,234.56", -50 -> "-0.50"; without `grouping` "1234.56", as spreadsheets
    read numbers."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouping else f"{sign}{whole}.{cents:02d}"


def fen_to_yuan_short(fen: int) -> str:
    """5000 -> "50", 1250 -> "12.5", 1205 -> "12.05", -50 -> "-0.5": no needless decimals."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    if not cents:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")


def fen_to_display(fen: int) -> str:
    """123456 -> "¥1,234.56", -50 -> "-¥0.50": an amount as a page shows it."""
    fen = int(fen)
    return f"-¥{fen_to_yuan(-fen)}" if fen < 0 else f"¥{fen_to_yuan(fen)}"
