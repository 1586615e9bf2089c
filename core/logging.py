"""Logs never carry a full phone or national ID number (PIPL; RELIABILITY P1)."""

import logging
import re

PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
NATIONAL_ID = re.compile(r"(?<![\dA-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![\dA-Za-z])")


def mask_pii(text: str) -> str:
    """13812345678 -> 138****5678; 330106199001011234 -> 3301**********1234."""
    text = NATIONAL_ID.sub(r"\1**********\2", text)
    return PHONE.sub(r"\1****\2", text)


class PiiMaskFilter(logging.Filter):
    """Rewrites a record's message with phones and ID numbers masked (on every handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
