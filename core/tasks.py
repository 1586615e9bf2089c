import socket

from celery import shared_task

from core.services import worker_heartbeat_record


@shared_task(ignore_result=False)
def worker_heartbeat() -> str:
    """Scheduled every minute by beat; lets /healthz tell which workers are alive."""
    hostname = worker_heartbeat.request.hostname or socket.gethostname()
    worker_heartbeat_record(hostname=hostname)
    return hostname
