"""Customer-service jobs for the workers: thin wrappers, each safe to run again."""

from celery import shared_task

from feedback.watch import tickets_sla_watch


@shared_task(acks_late=True)
def tickets_sla_watch_task() -> dict:
    """Reminders, escalations and auto-closing (feedback/watch.py); flags make reruns send
    nothing twice."""
    return tickets_sla_watch()
