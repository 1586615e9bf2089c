"""The POS examples work against the demo on every `make run`, not only the first."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from loyalty.models import Receipt
from tests.conftest import tools_missing

DOCS = Path(__file__).resolve().parents[2] / "docs"
CREDENTIALS = "POS_TERMINAL=pos_demo_s01 POS_SECRET=demo-secret-not-for-production"


def seed_demo(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("example", ["pos_receipt.py", "pos_receipt.sh"])
def test_the_examples_sign_as_the_demo_till_after_a_second_make_run(live_server, example):
    if example.endswith(".sh"):
        tools_missing(["bash", "curl", "openssl"])
    assert CREDENTIALS in seed_demo(members=5, months=1, reset=True)  # the first make run
    assert CREDENTIALS in seed_demo(if_empty=True)  # each later one prints them too
    env = {k: v for k, v in os.environ.items() if k not in ("POS_TERMINAL", "POS_SECRET")}
    env |= {
        "POS_URL": live_server.url,
        "POS_RECEIPT_NO": f"DEMO-{example.split('.')[1]}",
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
    assert "201" in first.stdout.split("\n", 1)[0]
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Idempotent-Replayed: true" in again.stdout or again.stdout.startswith("200 true ")
    assert Receipt.objects.filter(receipt_no=env["POS_RECEIPT_NO"]).count() == 1
