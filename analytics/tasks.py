"""Nightly analytics jobs: thin wrappers, each safe to rerun (a run builds aside and switches
in at the end)."""

from celery import shared_task

from analytics.predicted_value import ClvRunError, clv_run


@shared_task(acks_late=True)
def clv_run_nightly() -> dict:
    """Predicted value as of yesterday (Shanghai). A fit that fails is recorded on its run and
    raised; the previous run stays current."""
    try:
        run = clv_run()
    except ClvRunError:
        return {"skipped": "running elsewhere"}
    return {"run": run.pk, "as_of": run.as_of.isoformat(), "members": run.member_count}
