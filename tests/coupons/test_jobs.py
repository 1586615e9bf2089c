"""Bulk issue jobs: chunks that commit their progress, resuming after a crash without giving
anyone two, limits and quantity, a template that can no longer issue, the Celery task."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from coupons import issuing
from coupons.issuing import coupons_issue_bulk, issue_job_create, issue_job_run
from coupons.models import Coupon, IssueJob, IssueRule
from coupons.tasks import birthday_coupons_nightly, issue_job_run_task


@pytest.fixture
def members(member_factory):
    return [member_factory().pk for _ in range(7)]


@pytest.fixture
def make_job(make_template, campaign):
    def make(member_ids, template=None):
        template = template or make_template(per_member_limit=1)
        return IssueJob.objects.create(
            template=template, campaign=campaign, member_ids=member_ids, total=len(member_ids)
        )

    return make


def test_a_job_works_in_chunks_and_each_commits_its_progress(make_job, members, monkeypatch):
    job = make_job(members)
    seen = []

    def spy(**kwargs):
        seen.append((IssueJob.objects.get(pk=job.pk).processed, len(kwargs["member_ids"])))
        return coupons_issue_bulk(**kwargs)

    monkeypatch.setattr(issuing, "coupons_issue_bulk", spy)
    issue_job_run(job_id=job.pk, chunk_size=3)

    job.refresh_from_db()
    assert seen == [(0, 3), (3, 3), (6, 1)]
    assert (job.status, job.processed, job.issued, job.skipped) == ("done", 7, 7, 0)
    assert job.finished_at is not None
    assert sorted(Coupon.objects.values_list("member_id", flat=True)) == sorted(members)
    assert set(Coupon.objects.values_list("issue_key", flat=True)) == {
        f"job:{job.pk}:{m}" for m in members
    }


def test_after_a_crash_a_rerun_resumes_and_nobody_gets_two(make_job, members, monkeypatch):
    job = make_job(members, template=None)
    job.template.per_member_limit = 0  # no limit: only the job's keys stop a second coupon
    job.template.save()
    calls = []

    def crash_on_second_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return coupons_issue_bulk(**kwargs)

    monkeypatch.setattr(issuing, "coupons_issue_bulk", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        issue_job_run(job_id=job.pk, chunk_size=3)
    job.refresh_from_db()
    assert (job.status, job.processed, job.issued) == ("running", 3, 3)

    issue_job_run(job_id=job.pk, chunk_size=3)  # the redelivered task
    issue_job_run(job_id=job.pk, chunk_size=3)  # and a stray duplicate: nothing to do

    job.refresh_from_db()
    assert (job.status, job.processed, job.issued, job.skipped) == ("done", 7, 7, 0)
    assert sorted(Coupon.objects.values_list("member_id", flat=True)) == sorted(members)


def test_a_job_reset_by_hand_issues_nothing_twice(make_job, members):
    job = make_job(members)
    job.template.per_member_limit = 0
    job.template.save()
    issue_job_run(job_id=job.pk)
    IssueJob.objects.filter(pk=job.pk).update(status="running", processed=0, issued=0)

    issue_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.issued, job.skipped) == (0, 7)
    assert Coupon.objects.count() == 7


def test_limits_and_total_quantity_are_counted_as_skipped(
    make_job, make_template, members, campaign
):
    template = make_template(per_member_limit=1, total_quantity=5)
    coupons_issue_bulk(template=template, member_ids=members[:1], campaign=campaign)  # holds one
    job = make_job(members, template=template)

    issue_job_run(job_id=job.pk, chunk_size=2)

    job.refresh_from_db()
    assert (job.status, job.issued, job.skipped) == ("done", 4, 3)
    assert Coupon.objects.filter(template=template).count() == 5


def test_a_template_switched_off_fails_the_job_with_the_reason(make_job, members):
    job = make_job(members)
    job.template.is_active = False
    job.template.save()

    issue_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", gettext("This coupon is not active."))
    assert job.finished_at is not None and not Coupon.objects.exists()


def test_the_task_runs_the_job_queued_after_commit(
    make_template, campaign, members, staff_factory, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = issue_job_create(
            template=make_template(),
            campaign=campaign,
            member_ids=[*members, members[0]],
            actor=staff_factory().user,
            enqueue=issue_job_run_task.delay,
        )
    assert job.total == 7 and job.status == "queued" and not Coupon.objects.exists()

    callbacks[0]()  # the commit happens: the (eager) task runs

    job.refresh_from_db()
    assert (job.status, job.issued) == ("done", 7)
    assert issue_job_run_task.delay(job.pk).get() == {
        "job": job.pk,
        "status": "done",
        "issued": 7,
        "skipped": 0,
    }


# --- On a real worker through Redis ----------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis broker)")
def test_a_job_runs_on_a_real_worker(worker, make_job, members):  # noqa: F811
    job = make_job(members)

    result = issue_job_run_task.apply_async(args=[job.pk], queue=worker["queue"])
    try:
        answer = result.get(timeout=60)
    except Exception:
        worker["process"].terminate()
        print(worker["process"].communicate(timeout=10)[0])
        raise

    job.refresh_from_db()
    assert answer["status"] == "done" and job.status == "done"
    assert Coupon.objects.filter(issue_key__startswith=f"job:{job.pk}:").count() == 7


def test_the_nightly_birthday_task_issues_once_a_year(make_template, member_factory):
    in_a_week = timezone.localdate() + timedelta(days=7)
    member = member_factory(birthday=in_a_week.replace(year=1992))
    member_factory(birthday=(in_a_week + timedelta(days=1)).replace(year=1992))
    IssueRule.objects.create(trigger="birthday", template=make_template(), days_before=7)

    assert birthday_coupons_nightly.delay().get() == 1
    assert birthday_coupons_nightly.delay().get() == 0
    assert list(Coupon.objects.values_list("member_id", flat=True)) == [member.pk]
