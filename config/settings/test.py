"""The test suite: same database selection as development, tasks always eager, fast hashing.

A test that needs the real broker (REDIS_URL) starts its own worker and turns eagerness off.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import CACHES, REDIS_URL, env

DEBUG = False
# Serve static/ straight from the source folders; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if REDIS_URL:
    # The suite clears its cache between tests (FLUSHDB), so it gets a Redis database of its
    # own, apart from the broker's queues.
    CACHES["default"]["LOCATION"] = env(
        "TEST_CACHE_REDIS_URL", default=f"{REDIS_URL.rsplit('/', 1)[0]}/15"
    )
MEDIA_ROOT = env.path("MEDIA_ROOT", default="/tmp/mall-test-media")  # noqa: S108
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=f"{MEDIA_ROOT}-private")
