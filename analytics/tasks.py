"""Nightly analytics jobs: thin wrappers, each idempotent and safe to rerun."""

from celery import shared_task

from analytics.services import RfmRunInProgress, rfm_snapshot_build


@shared_task(acks_late=True)
def rfm_run_nightly() -> dict:
    """Yesterday's RFM snapshot (the service takes the lock; a second delivery skips)."""
    try:
        snapshot = rfm_snapshot_build()
    except RfmRunInProgress:
        return {"skipped": "running elsewhere"}
    return {
        "snapshot": snapshot.pk,
        "as_of": snapshot.as_of.isoformat(),
        "members": snapshot.row_count,
    }
