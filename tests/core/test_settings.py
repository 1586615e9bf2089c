"""Which database, cache and Celery mode each environment selects, and production's rules.

Settings are read once per process, so each case runs in a fresh interpreter.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": db["NAME"], "host": db.get("HOST", ""),
    "cache": settings.CACHES["default"]["BACKEND"], "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL, "debug": settings.DEBUG,
}))
"""
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k" * 20 + "9f8e7d6c5b4a3210zyxwvutsrqponmlkjihgfedcba",
    "ALLOWED_HOSTS": "mall.example.com",
    "DATABASE_URL": "postgres://mall:secret@db.internal:5432/mall",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "WECHAT_APP_ID": "wx1234567890abcdef",
    "WECHAT_SECRET": "0123456789abcdef0123456789abcdef",
    "PII_ENCRYPTION_KEY": "q3Ut8yV0b6m1C2p9xZk4L7wE5rT0aS8dF1gH2jK3lM4=",
}


SETTINGS_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_ENV",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "WECHAT_APP_ID",
    "WECHAT_SECRET",
    "PII_ENCRYPTION_KEY",
}


def run_python(code: str, env: dict, *args) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def probe(env: dict) -> dict:
    result = run_python(
        "import os; from config.env import default_settings_module;"
        " os.environ.setdefault('DJANGO_SETTINGS_MODULE', default_settings_module());" + PROBE,
        env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_urls_development_uses_embedded_postgres_eager_celery_and_memory_cache():
    config = probe({})
    assert config["engine"] == "config.embedded_postgres"
    assert config["host"].endswith(".pgdata") and config["name"] == "mall"
    assert config["cache"].endswith("LocMemCache")
    assert config["eager"] is True and config["debug"] is True


def test_database_url_and_redis_url_switch_to_the_real_services():
    config = probe(
        {
            "DATABASE_URL": "postgres://u:p@10.1.2.3:5433/shop",
            "REDIS_URL": "redis://127.0.0.1:6390/2",
        }
    )
    assert config["engine"] == "django.db.backends.postgresql"
    assert (config["host"], config["name"]) == ("10.1.2.3", "shop")
    assert config["cache"].endswith("RedisCache")
    assert config["eager"] is False and config["broker"] == "redis://127.0.0.1:6390/2"


def test_production_reads_everything_from_the_environment():
    config = probe(PRODUCTION_ENV)
    assert config["debug"] is False and config["eager"] is False
    assert config["host"] == "db.internal"


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "WECHAT_APP_ID",
        "WECHAT_SECRET",
        "PII_ENCRYPTION_KEY",
    ],
)
def test_production_refuses_to_start_without_a_required_variable(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_python(
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.production';" + PROBE, env
    )
    assert result.returncode != 0
    assert missing in result.stderr and "ImproperlyConfigured" in result.stderr


def test_an_unknown_django_env_is_an_error():
    result = run_python("", {"DJANGO_ENV": "staging"}, "manage.py", "check")
    assert result.returncode != 0 and "DJANGO_ENV must be" in result.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = run_python(
        "", PRODUCTION_ENV, "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_no_model_change_lacks_a_migration():
    env = {k: os.environ[k] for k in ("DATABASE_URL",) if k in os.environ}
    result = run_python("", env, "manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
