"""Sending text messages: a backend chosen by settings.SMS_BACKEND.

The console backend (default) logs the text and keeps it in `outbox`, so a developer or a test
can read the code; the HTTP backend posts to the SMS gateway the mall contracts with.
"""

import logging

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from core.exceptions import ServiceError

logger = logging.getLogger(__name__)
outbox: list[dict] = []  # console backend only: what was "sent", newest last


class SmsError(ServiceError):
    code = "sms_failed"


class ConsoleSmsBackend:
    def send(self, *, phone: str, text: str) -> None:
        outbox.append({"phone": phone, "text": text})
        logger.warning("SMS to %s: %s", phone, text)


class HttpSmsBackend:
    """POSTs {"phone", "text", "sign"} as JSON with the key in a header; expects 2xx."""

    def send(self, *, phone: str, text: str) -> None:
        try:
            response = requests.post(
                settings.SMS_GATEWAY_URL,
                json={"phone": phone, "text": text, "sign": settings.SMS_SIGN},
                headers={"Authorization": f"Bearer {settings.SMS_GATEWAY_KEY}"},
                timeout=settings.SMS_TIMEOUT,
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            logger.error("SMS gateway failed for %s: %s", phone[:3], exc.__class__.__name__)
            raise SmsError() from exc


def sms_send(*, phone: str, text: str) -> None:
    import_string(settings.SMS_BACKEND)().send(phone=phone, text=text)
