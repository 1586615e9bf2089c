"""Nightly analytics jobs: thin wrappers, each safe to rerun (a run builds aside and switches
in at the end; a second delivery while one runs skips)."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from analytics.actions import group_action_run
from analytics.models import GroupAction
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


@shared_task(bind=True, acks_late=True)
def group_action_run_task(self, action_id: int) -> dict:
    """An action on a group; a redelivered or repeated task continues from the saved
    audience. While quiet hours hold it, it schedules itself again for their end, on the
    queue it came from (group_actions_resume is the safety net)."""
    action = group_action_run(action_id=action_id)
    if action.status == GroupAction.Status.RUNNING and action.deferred_until:
        queue = (self.request.delivery_info or {}).get("routing_key")
        group_action_run_later(action_id=action.pk, eta=action.deferred_until, queue=queue)
    return {
        "action": action.pk,
        "status": action.status,
        "sent": action.sent,
        "failed": action.failed,
        "skipped": action.skipped,
        "deferred_until": action.deferred_until.isoformat() if action.deferred_until else None,
    }


def group_action_run_later(*, action_id: int, eta: datetime, queue: str | None) -> None:
    """Through the broker even where tasks otherwise run eagerly (development, tests): run
    in-process, a deferred task would call itself at once, for ever."""
    options = {"queue": queue} if queue else {}
    group_action_run_task.app.send_task(
        group_action_run_task.name, args=[action_id], eta=eta, **options
    )


@shared_task(acks_late=True)
def group_actions_resume() -> list[int]:
    """Every 10 minutes: actions whose quiet-hours wait is over start again (their own
    scheduled restart may be lost with a broker restart)."""
    due = list(
        GroupAction.objects.filter(
            status=GroupAction.Status.RUNNING, deferred_until__lte=timezone.now()
        ).values_list("pk", flat=True)
    )
    for action_id in due:
        group_action_run_task.delay(action_id)
    return due


@shared_task(acks_late=True)
def rule_tags_recompute_nightly() -> list[dict]:
    """Every rule tag recomputed after the night's RFM snapshot and predicted value (each tag
    in its own transaction: deleting stale members and adding new ones; rerunning is safe)."""
    return rule_tags_recompute()
