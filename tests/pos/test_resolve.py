"""GET /api/pos/v1/members/resolve: limited per terminal (429 with Retry-After), and every
lookup by phone leaves a trace in the audit log without the phone number in clear."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.models import AuditLog
from pos.services import pos_terminal_create
from tests.conftest import PosClient

NOW = datetime(2026, 11, 23, 2, 0, 10, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def resolve(pos, query):
    return pos.get(f"/api/pos/v1/members/resolve?{query}")


def test_a_terminal_over_its_limit_gets_a_json_429_with_retry_after(
    pos, client, store, member, settings, clock
):
    settings.POS_RESOLVE_RATE_LIMIT = 3
    settings.POS_RESOLVE_RATE_WINDOW = 60
    other = PosClient(client, pos_terminal_create(store=store, name="2F 收银 02"))

    answers = [resolve(pos, f"card_no={member.card_no}").status_code for _ in range(3)]
    refused = resolve(pos, f"phone={member.phone}")

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json() == {"error": "too_many_requests"}
    assert refused["Retry-After"] == "50"  # the window ends at 02:01:00
    assert resolve(other, f"card_no={member.card_no}").status_code == 200
    clock.shift(timedelta(seconds=50))
    assert resolve(pos, f"card_no={member.card_no}").status_code == 200


def test_a_lookup_by_phone_is_audited_with_the_phone_masked(pos, terminal, member, clock):
    found = resolve(pos, f"phone={member.phone}")
    missing = resolve(pos, "phone=13900000000")
    resolve(pos, f"card_no={member.card_no}")

    assert (found.status_code, missing.status_code) == (200, 404)
    hit, miss = AuditLog.objects.filter(action="loyalty.pos.member_looked_up_by_phone").order_by(
        "id"
    )
    assert AuditLog.objects.count() == 2  # card numbers are not phone lookups
    assert (hit.target_type, hit.target_id, hit.actor) == ("members.member", str(member.pk), None)
    assert hit.data["terminal"] == terminal.terminal_id and hit.data["store"] == "S01"
    assert hit.data["phone"] == f"{member.phone[:3]}****{member.phone[-4:]}"
    assert hit.data["found"] is True and hit.created_at == NOW
    assert (miss.target_id, miss.data["found"], miss.data["phone"]) == ("", False, "139****0000")
    for entry in (hit, miss):
        row = json.dumps([entry.action, entry.target_id, entry.data])
        assert member.phone not in row and "13900000000" not in row
    again = resolve(pos, f"phone={member.phone}")
    assert again.status_code == 200
    digests = AuditLog.objects.filter(data__phone_digest=hit.data["phone_digest"])
    assert digests.count() == 2  # the lookups of one number can be found together
