"""Nightly analytics jobs: thin wrappers, each safe to rerun (a run builds aside and switches
in at the end; a second delivery while one runs skips)."""

from celery import shared_task

from analytics.predicted_value import ClvRunError, clv_run
from analytics.services import RfmRunInProgress, rfm_snapshot_build
from analytics.tags import rule_tags_recompute


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


@shared_task(acks_late=True)
def clv_run_nightly() -> dict:
    """Predicted value as of yesterday (Shanghai). A fit that fails is recorded on its run and
    raised; the previous run stays current."""
    try:
        run = clv_run()
    except ClvRunError:
        return {"skipped": "running elsewhere"}
    return {"run": run.pk, "as_of": run.as_of.isoformat(), "members": run.member_count}


@shared_task(acks_late=True)
def rule_tags_recompute_nightly() -> list[dict]:
    """Every rule tag recomputed after the night's RFM snapshot and predicted value (each tag
    in its own transaction: deleting stale members and adding new ones; rerunning is safe)."""
    return rule_tags_recompute()
