"""The documents a till vendor copies from: they must be current and they must work."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from loyalty.models import Receipt
from pos.openapi import pos_openapi
from pos.services import pos_terminal_create
from tests.conftest import tools_missing
from tests.members.factories import MemberFactory
from tests.stores.factories import StoreFactory

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_committed_openapi_document_is_current():
    committed = json.loads((DOCS / "pos-api.openapi.json").read_text())
    assert committed == json.loads(json.dumps(pos_openapi())), (
        "run: python manage.py pos_openapi > docs/pos-api.openapi.json"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("example", ["pos_receipt.py", "pos_receipt.sh"])
def test_the_signed_examples_record_a_receipt_on_a_live_server(live_server, example):
    from django.apps import apps

    if example.endswith(".sh"):
        tools_missing(["bash", "curl", "openssl"])
    from loyalty.defaults import loyalty_defaults_install

    loyalty_defaults_install(apps)
    store = StoreFactory(code="S01")
    terminal = pos_terminal_create(store=store, name="vendor test")
    member = MemberFactory(home_store=store)
    env = {
        **os.environ,
        "POS_URL": live_server.url,
        "POS_TERMINAL": terminal.terminal_id,
        "POS_SECRET": terminal.secret,
        "POS_CARD_NO": member.card_no,
        "POS_RECEIPT_NO": f"EX-{example.split('.')[1]}",
        "POS_OCCURRED_AT": timezone.localtime().isoformat(timespec="seconds"),
    }
    command = [sys.executable] if example.endswith(".py") else ["bash"]
    run = lambda: subprocess.run(  # noqa: E731
        [*command, str(DOCS / "examples" / example)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    first, again = run(), run()

    assert first.returncode == 0, first.stdout + first.stderr
    assert ("201" in first.stdout.split("\n", 1)[0]) and member.card_no in first.stdout
    assert again.returncode == 0, again.stdout
    assert "Idempotent-Replayed: true" in again.stdout or again.stdout.startswith("200 true ")
    assert Receipt.objects.filter(member=member).count() == 1
