"""Member card numbers: 12 digits, "88" + 9 random digits + a Luhn check digit.

Random rather than sequential so that numbers cannot be enumerated; the check digit catches a
mistyped number at the service desk before it reaches the database.
"""

import secrets
from collections.abc import Callable

CARD_PREFIX = "88"
CARD_LENGTH = 12


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


def card_no_is_valid(card_no: str) -> bool:
    return (
        len(card_no) == CARD_LENGTH
        and card_no.isascii()
        and card_no.isdigit()
        and card_no.startswith(CARD_PREFIX)
        and luhn_check_digit(card_no[:-1]) == card_no[-1]
    )


def card_no_random(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A well-formed card number; the caller makes sure it is not taken."""
    body_length = CARD_LENGTH - len(CARD_PREFIX) - 1
    body = CARD_PREFIX + str(randbelow(10**body_length)).zfill(body_length)
    return body + luhn_check_digit(body)
