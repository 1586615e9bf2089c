"""Coupon jobs for the workers: thin wrappers taking ids, each safe to run again."""

from celery import shared_task

from coupons.issuing import birthday_coupons_issue, issue_job_run


@shared_task(acks_late=True)
def issue_job_run_task(job_id: int) -> dict:
    """A bulk issue (IssueJob); a redelivered task resumes after the last committed chunk."""
    job = issue_job_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "issued": job.issued, "skipped": job.skipped}


@shared_task(acks_late=True)
def birthday_coupons_nightly() -> int:
    """Birthday coupons of the active rules; keyed per rule and year, so reruns add none."""
    return birthday_coupons_issue()
