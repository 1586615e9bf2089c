"""The nightly mining run: scheduled by beat, with the settings' parameters over the window."""

import importlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django_celery_beat.models import PeriodicTask

from mining.models import MiningRun, MiningSettings
from mining.tasks import mining_run_nightly
from tests.mining.test_runs import DRESS, HAT, receipt
from tests.stores.factories import StoreFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_the_nightly_run_is_scheduled_and_uses_the_settings(time_machine):
    # The data migration's function (a transactional test elsewhere may have flushed its row).
    importlib.import_module("mining.migrations.0002_nightly_schedule").schedule(django_apps, None)
    task = PeriodicTask.objects.get(task="mining.tasks.mining_run_nightly")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("5", "0")

    store = StoreFactory(code="S01")
    settings = MiningSettings.current()
    settings.window_days, settings.min_support, settings.min_confidence = 30, 0.5, 0.5
    settings.min_lift = 0
    settings.save()
    time_machine.move_to(datetime(2026, 11, 20, 5, 0, tzinfo=SHANGHAI))
    receipt(store, "IN", [DRESS, HAT], when=datetime(2026, 11, 19, 23, 59, tzinfo=SHANGHAI))
    receipt(store, "TODAY", [DRESS, HAT], when=datetime(2026, 11, 20, 0, 1, tzinfo=SHANGHAI))
    receipt(store, "OLD", [DRESS, HAT], when=datetime(2026, 10, 20, 23, 0, tzinfo=SHANGHAI))

    result = mining_run_nightly()
    run = MiningRun.objects.get(pk=result["run"])
    assert (run.trigger, run.status, run.is_current) == ("nightly", "done", True)
    assert (run.since, run.until) == (date(2026, 10, 21), date(2026, 11, 19))
    assert run.basket_count == 1 and run.rule_count == 2

    settings.nightly_enabled = False
    settings.save()
    assert mining_run_nightly() == {"skipped": "nightly mining is off"}
