"""Mining jobs: thin wrappers around mining/services.py."""

from celery import shared_task

from mining.services import mining_run_execute, mining_run_nightly_create


@shared_task(acks_late=True)
def mining_run(run_id: int) -> dict:
    """Execute a queued run (a redelivery of a started or finished run does nothing)."""
    run = mining_run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "rules": run.rule_count}


@shared_task(acks_late=True)
def mining_run_nightly() -> dict:
    """The nightly run with the settings' parameters over the last window."""
    run = mining_run_nightly_create()
    if run is None:
        return {"skipped": "nightly mining is off"}
    return mining_run(run.pk)
