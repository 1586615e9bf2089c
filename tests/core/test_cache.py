"""The Redis cache keeps its redis-py client (core/cache.py) and still behaves as Django's:
values, add, incr and expiry through a real Redis, from several threads."""

import threading
import time

import pytest
from django.conf import settings
from django.core.cache import cache, caches

from core.cache import RedisCache

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis)"),
]


def test_the_suite_and_production_use_it():
    assert isinstance(caches["default"], RedisCache)


def test_one_client_serves_every_call():
    backend = caches["default"]._cache
    client = backend.get_client()
    cache.get("k:any")
    assert backend.get_client() is client
    assert backend.get_client(write=True) is client  # one server: one pool


def test_values_add_incr_and_expiry_behave_as_django_s():
    cache.set("k:value", {"分": 100}, 30)
    assert cache.get("k:value") == {"分": 100}
    assert cache.add("k:once", 1, 30) is True
    assert cache.add("k:once", 2, 30) is False
    assert cache.incr("k:once") == 2
    cache.set("k:short", 1, 1)
    time.sleep(1.2)
    assert cache.get("k:short") is None

    counts = []

    def add_many():
        counts.append(sum(cache.add(f"k:n:{n}", 1, 30) for n in range(50)))

    threads = [threading.Thread(target=add_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 50  # each key added once across the threads
