"""Nightly loyalty jobs: thin wrappers, each idempotent and safe to rerun."""

from celery import shared_task

from core.locks import advisory_lock
from loyalty.expiry import expiry_reminders_send, points_expire
from loyalty.tiers import tiers_review


@shared_task(acks_late=True)
def points_expire_nightly() -> dict:
    with advisory_lock("loyalty.points_expire") as acquired:
        if not acquired:
            return {"skipped": "running elsewhere"}
        result = points_expire()
        result["reminders"] = expiry_reminders_send()
        return result


@shared_task(acks_late=True)
def tiers_review_periodic() -> dict:
    with advisory_lock("loyalty.tiers_review") as acquired:
        if not acquired:
            return {"skipped": "running elsewhere"}
        return tiers_review()
