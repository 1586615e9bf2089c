"""How personal data is shown where the full value is not needed (lists, exports, tills)."""


def mask_phone(phone: str | None) -> str:
    """13812345678 -> 138****5678."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_name(name: str | None) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧阳**, 阿卜杜·热合曼 -> 阿******: the first character(s) only."""
    if not name:
        return ""
    keep = 2 if len(name) >= 4 and "·" not in name else 1
    return name[:keep] + "*" * (len(name) - keep)


def mask_national_id(number: str | None) -> str:
    """330106199001011234 -> 3301**********1234: the province and city, and the last four."""
    if not number:
        return ""
    if len(number) < 12:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"
