"""docker-compose.yml against what the settings really read (no Docker engine runs here)."""

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.core.test_settings import PRODUCTION_ENV, run_python

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ["migrate", "web", "worker", "beat"]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def production_reads():
    """{variable: required} for everything the production settings read."""
    result = run_python(
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.production';"
        "import django; django.setup(); from config.env import env; print(json.dumps(env.read))",
        PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_stack_has_web_worker_beat_postgres_and_redis(compose):
    assert {"web", "worker", "beat", "postgres", "redis", "migrate"} <= set(compose["services"])


def test_app_services_get_every_required_production_variable(compose, production_reads):
    required = {name for name, is_required in production_reads.items() if is_required}
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= required
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert environment["DJANGO_ENV"] == "production"
        assert required <= set(environment), f"{name} lacks {required - set(environment)}"


def test_app_services_set_no_variable_the_settings_ignore(compose, production_reads):
    for name in APP_SERVICES:
        unknown = (
            set(compose["services"][name]["environment"]) - set(production_reads) - {"DJANGO_ENV"}
        )
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"


def test_urls_point_at_the_compose_services(compose):
    environment = compose["services"]["web"]["environment"]
    assert re.match(r"postgres://mall:.+@postgres:5432/mall$", environment["DATABASE_URL"])
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    postgres = compose["services"]["postgres"]["environment"]
    assert (postgres["POSTGRES_DB"], postgres["POSTGRES_USER"]) == ("mall", "mall")


def test_commands_run_gunicorn_a_worker_and_beat_on_the_database_scheduler(compose):
    services = compose["services"]
    assert services["web"]["command"][:2] == ["gunicorn", "config.wsgi:application"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    beat = services["beat"]["command"]
    assert beat[:4] == ["celery", "-A", "config", "beat"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker", "beat"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_the_image_installs_the_project_and_serves_with_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert "COPY pyproject.toml" in dockerfile and "pip install ." in dockerfile
    assert "collectstatic" in dockerfile and "USER mall" in dockerfile
    assert '"gunicorn", "config.wsgi:application"' in dockerfile
