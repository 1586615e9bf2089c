"""Readiness checks behind /healthz: the database, the broker, and the workers' heartbeats."""

import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.models import WorkerHeartbeat

HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


def database_status() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the reason is reported
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def broker_status() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "eager"}
    # The project's app (config/celery.py), current since config/__init__.py loaded it; core
    # sits below config and does not import it.
    from celery import current_app as app

    started = time.monotonic()
    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises several families; all mean "unreachable"
        return {"ok": False, "mode": "broker", "error": exc.__class__.__name__}
    return {
        "ok": True,
        "mode": "broker",
        "latency_ms": round((time.monotonic() - started) * 1000, 1),
    }


def workers_status() -> dict:
    """Workers that ran the heartbeat task recently; informational, not part of readiness."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"mode": "eager"}
    fresh_after = timezone.now() - HEARTBEAT_STALE_AFTER
    beats = WorkerHeartbeat.objects.order_by("hostname")
    return {
        "alive": [b.hostname for b in beats if b.seen_at >= fresh_after],
        "stale": [b.hostname for b in beats if b.seen_at < fresh_after],
    }


def health_report() -> tuple[bool, dict]:
    database = database_status()
    broker = broker_status()
    report = {"database": database, "broker": broker}
    if database["ok"]:
        report["workers"] = workers_status()
    ok = database["ok"] and broker["ok"]
    report["status"] = "ok" if ok else "unavailable"
    return ok, report
