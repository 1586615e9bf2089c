import socket

import pytest
from django.test import override_settings
from django.utils import timezone

from core.models import WorkerHeartbeat
from core.services import worker_heartbeat_record


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_healthz_reports_database_and_eager_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["database"]["latency_ms"] >= 0
    assert body["broker"] == {"ok": True, "mode": "eager"}


@pytest.mark.django_db
def test_healthz_is_503_with_a_reason_when_the_broker_is_down(client):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=url):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["broker"]["ok"] is False and body["broker"]["error"]


@pytest.mark.django_db
def test_healthz_answers_any_host_and_plain_http(client):
    with override_settings(ALLOWED_HOSTS=["mall.example.com"], SECURE_SSL_REDIRECT=True):
        response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
        other = client.get("/m/", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert other.status_code == 400  # the rest of the site still checks the host


@pytest.mark.django_db
def test_healthz_lists_live_and_stale_workers(client, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    worker_heartbeat_record(hostname="celery@old")
    time_machine.shift(600)
    worker_heartbeat_record(hostname="celery@new")
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="memory://"):
        body = client.get("/healthz").json()
    assert body["workers"] == {"alive": ["celery@new"], "stale": ["celery@old"]}
    assert WorkerHeartbeat.objects.count() == 2
