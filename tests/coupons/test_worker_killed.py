"""RELIABILITY.md J1 (c): a Celery worker killed mid-job. A real `celery -A config worker`
(prefork, one child) runs a bulk issue job through real Redis; the child running it is
SIGKILLed after some chunks have committed. With acks_late and task_reject_on_worker_lost the
message goes back to the queue, the next run resumes after the last committed chunk, and every
member ends with exactly one coupon of the job."""

import os
import signal
import time

import pytest
from django.conf import settings
from django.db import connections

from coupons.issuing import JOB_CHUNK
from coupons.models import Coupon, IssueJob
from coupons.tasks import issue_job_run_task
from members.models import Member
from tests.conftest import celery_worker_running
from tests.members.factories import MemberFactory

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis broker)"),
]

MEMBERS = 3 * JOB_CHUNK + 7  # four chunks: the kill lands with at least one still to do


def _wait_for(condition, timeout=120, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _children(pid: int) -> list[int]:
    """The pool processes of the worker `pid` (Linux: /proc/<pid>/task/<pid>/children)."""
    with open(f"/proc/{pid}/task/{pid}/children") as file:
        return [int(child) for child in file.read().split()]


@pytest.fixture
def prefork_worker(transactional_db):
    """A worker whose task runs in a child process, as in production (the suite's `worker`
    fixture uses the solo pool, which has no child to kill)."""
    with celery_worker_running(pool="prefork") as running:
        yield running


def _lock_job_row(job_id: int):
    """A second connection holding the job's row lock: the worker's next chunk waits on it.
    Returns the connection (rolled back to release) and the job's committed progress."""
    lock = connections.create_connection("default")
    lock.set_autocommit(False)
    with lock.cursor() as cursor:
        cursor.execute(
            "SELECT processed, total FROM coupons_issuejob WHERE id = %s FOR UPDATE", [job_id]
        )
        processed, total = cursor.fetchone()
    return lock, processed, total


def test_a_worker_killed_mid_job_leaves_the_next_run_to_finish_it_exactly_once(
    prefork_worker, make_template, campaign, store
):
    members = [
        MemberFactory.build(
            card_no=f"J1-{n:06d}", phone=f"137{n:08d}", home_store=store, region=store.region
        )
        for n in range(MEMBERS)
    ]
    ids = [m.pk for m in Member.objects.bulk_create(members)]
    template = make_template(per_member_limit=1)
    job = IssueJob.objects.create(
        template=template, campaign=campaign, member_ids=ids, total=len(ids)
    )
    worker = prefork_worker["process"]

    issue_job_run_task.apply_async(args=[job.pk], queue=prefork_worker["queue"])
    _wait_for(
        lambda: IssueJob.objects.filter(pk=job.pk, processed__gt=0).exists(),
        what="the first chunk to commit",
    )
    lock, processed, total = _lock_job_row(job.pk)
    try:
        assert 0 < processed < total  # mid-job: chunks committed, chunks to go
        (child,) = _children(worker.pid)
        os.kill(child, signal.SIGKILL)
        # The worker notices its lost child, rejects the message back to the queue and a new
        # child takes it: that run waits on the lock too.
        _wait_for(lambda: _children(worker.pid) not in ([], [child]), what="a new pool child")
    finally:
        lock.rollback()
        lock.close()

    _wait_for(
        lambda: IssueJob.objects.filter(pk=job.pk, status=IssueJob.Status.DONE).exists(),
        what="the redelivered task to finish the job",
    )
    job.refresh_from_db()
    coupons = Coupon.objects.filter(issue_key__startswith=f"job:{job.pk}:")
    assert coupons.count() == MEMBERS
    assert coupons.values("member").distinct().count() == MEMBERS
    assert (job.processed, job.issued, job.skipped) == (MEMBERS, MEMBERS, 0)
    assert worker.poll() is None, "the worker itself survives the loss of its child"
