"""A task goes through real Redis to a real `celery -A config worker` and reaches the database."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from config.celery import app
from core.models import WorkerHeartbeat
from core.tasks import worker_heartbeat

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis broker)"),
]


def database_env() -> dict:
    """Environment that points a child process at the test database this test uses."""
    db = connection.settings_dict
    if db["ENGINE"] == "config.embedded_postgres":
        return {"EMBEDDED_DB_NAME": db["NAME"], "EMBEDDED_PGDATA": db["HOST"]}
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return {"DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}{port}/{db['NAME']}"}


@pytest.fixture
def worker(transactional_db):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    name = f"{queue}@pytest"
    env = {**os.environ, **database_env(), "DJANGO_ENV": "test", "REDIS_URL": settings.REDIS_URL}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-n",
            name,
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield {"queue": queue, "name": name, "process": process}
    finally:
        app.conf.task_always_eager = previous
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


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
