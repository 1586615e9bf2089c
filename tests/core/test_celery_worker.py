"""A task goes through real Redis to a real `celery -A config worker` and reaches the database."""

import pytest
from django.conf import settings
from django.test import override_settings

from core.models import WorkerHeartbeat
from core.tasks import worker_heartbeat

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis broker)"),
]


def test_a_task_runs_on_a_real_worker_and_writes_to_the_database(worker, client):
    result = worker_heartbeat.apply_async(queue=worker["queue"])
    try:
        hostname = result.get(timeout=60)
    except Exception:
        worker["process"].terminate()
        print(worker["process"].communicate(timeout=10)[0])
        raise
    assert hostname == worker["name"]
    assert WorkerHeartbeat.objects.filter(hostname=worker["name"]).exists()

    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        body = client.get("/healthz").json()
    assert body["broker"]["ok"] is True and body["broker"]["mode"] == "broker"
    assert worker["name"] in body["workers"]["alive"]
