"""Phone and national ID numbers never reach the logs in full (RELIABILITY P1)."""

import io
import logging
import logging.config

import pytest
from django.conf import settings

from core.logging import mask_pii


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SMS to 13812345678: 验证码 204861", "SMS to 138****5678: 验证码 204861"),
        ("id 33010619900101123X ok", "id 3301**********123X ok"),
        ("card 123456789012 stays", "card 123456789012 stays"),  # 12-digit card numbers
        ("code 204861 stays", "code 204861 stays"),
        ("phone=13812345678&x=1", "phone=138****5678&x=1"),
    ],
)
def test_mask_pii(text, expected):
    assert mask_pii(text) == expected


def test_every_configured_handler_masks(monkeypatch):
    stream = io.StringIO()
    config = {**settings.LOGGING, "handlers": {**settings.LOGGING["handlers"]}}
    for name, handler in config["handlers"].items():
        assert "pii" in handler.get("filters", []), name
        config["handlers"][name] = {**handler, "stream": stream}
    logging.config.dictConfig(config)
    try:
        logging.getLogger("members.sms").warning("SMS to %s: %s", "13900001111", "验证码 123456")
        logging.getLogger("x").error("reveal 330106199001011234 by hq")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    logged = stream.getvalue()
    assert "139****1111" in logged and "13900001111" not in logged
    assert "3301**********1234" in logged and "330106199001011234" not in logged
