"""Member card numbers: the one rule every input of a card number goes through.

A card number is 1 to 32 characters from A-Z a-z 0-9 and "-", kept exactly as given: no case
folding, no padding (DESIGN.md, "Card numbers"). The mall's existing cards come in through
imports with whatever numbers its old system printed ("BARS0001", "00012345",
"VIP-2019-000123"). Only the numbers the system issues itself follow its own scheme: "88" + 9
random digits + a Luhn check digit. Random rather than sequential so that numbers cannot be
enumerated; the check digit catches a mistyped number at the service desk.
"""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

CARD_NO_MAX_LENGTH = 32
# For JSON Schema (pydantic, OpenAPI) and Postgres, where "$" is the end of the text.
CARD_NO_PATTERN = r"^[A-Za-z0-9-]{1,32}$"
_CARD_NO = re.compile(r"[A-Za-z0-9-]{1,32}")
_EXCEL_NUMBER = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")

CARD_PREFIX = "88"
CARD_LENGTH = 12


class CardNoError(ValueError):
    """Not a card number; the message says why, in words an operator can act on."""


def card_no_clean(value: str) -> str:
    """`value` as a card number: surrounding white space dropped, nothing else changed;
    CardNoError if it is not one."""
    card = value.strip() if isinstance(value, str) else ""
    if _CARD_NO.fullmatch(card):
        return card
    if not card:
        raise CardNoError("required")
    if len(card) > CARD_NO_MAX_LENGTH:
        raise CardNoError(f"at most {CARD_NO_MAX_LENGTH} characters, got {len(card)}")
    if _EXCEL_NUMBER.match(card):
        raise CardNoError(
            f"{card!r} is a number Excel reformatted; format the column as text and export again"
        )
    raise CardNoError(f"only letters A-Z a-z, digits and '-' are allowed, got {card!r}")


def card_no_is_valid(value: str) -> bool:
    """Whether `value` is a card number exactly as it stands (no white space around it)."""
    return isinstance(value, str) and _CARD_NO.fullmatch(value) is not None


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # doubled: the digit right of it will be the check digit
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def card_no_is_issued_form(card_no: str) -> bool:
    """Whether `card_no` has the form of the numbers the system issues ("88…" + Luhn)."""
    return (
        len(card_no) == CARD_LENGTH
        and card_no.isascii()
        and card_no.isdigit()
        and card_no.startswith(CARD_PREFIX)
        and luhn_check_digit(card_no[:-1]) == card_no[-1]
    )


def card_no_random(randbelow: Callable[[int], int] | None = None) -> str:
    """A number of the system's own scheme; the caller makes sure it is not taken (an
    imported card may hold any number, this form included)."""
    body_length = CARD_LENGTH - len(CARD_PREFIX) - 1
    draw = (randbelow or secrets.randbelow)(10**body_length)
    body = CARD_PREFIX + str(draw).zfill(body_length)
    return body + luhn_check_digit(body)


def card_no_masked(card_no: str) -> str:
    """The card number for a glance at the desk: the first and last four characters, and of
    a short imported number never more than a third each ("00****45")."""
    shown = min(4, len(card_no) // 3)
    if shown == 0:
        return "****"
    return f"{card_no[:shown]}****{card_no[-shown:]}"


def card_no_grouped(card_no: str) -> str:
    """A number of the system's scheme in groups of four, as printed on its cards; an imported
    number as its old card shows it."""
    if not card_no_is_issued_form(card_no):
        return card_no
    return " ".join(card_no[i : i + 4] for i in range(0, len(card_no), 4))


_LIST_SEPARATORS = re.compile(r"[,，;；]")


@dataclass
class CardList:
    lines: dict[str, int] = field(default_factory=dict)  # card number: the line it is first on
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, entry, why)

    @property
    def cards(self) -> list[str]:
        return list(self.lines)


def card_nos_parse(text: str) -> CardList:
    """The card numbers of a typed or pasted list (staff pages, CARDS.txt): one a line, or
    separated by white space, commas or semicolons; a number of the system's scheme may be
    pasted as printed ("8812 3456 7890"). Repeats count once; an entry that is no card
    number is an error of its line."""
    parsed = CardList()
    for number, line in enumerate(text.splitlines(), start=1):
        for part in _LIST_SEPARATORS.split(line):
            joined = re.sub(r"\s", "", part)
            entries = [joined] if card_no_is_issued_form(joined) else part.split()
            for entry in entries:
                try:
                    parsed.lines.setdefault(card_no_clean(entry), number)
                except CardNoError as exc:
                    parsed.errors.append((number, entry, str(exc)))
    return parsed
