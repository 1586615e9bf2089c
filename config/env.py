"""Environment access for settings: every variable the project reads goes through `env`.

`env` remembers each name it was asked for and whether a default was given, so a test can
hold docker-compose.yml against what the settings really read.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


class RecordingEnv(environ.Env):
    def __init__(self, **scheme):
        super().__init__(**scheme)
        self.read: dict[str, bool] = {}  # name -> required (read without a default)

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        self.read.setdefault(var, default is environ.Env.NOTSET)
        if default is environ.Env.NOTSET:
            self.read[var] = True
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = RecordingEnv()


def default_settings_module() -> str:
    """The settings module for DJANGO_ENV (development, test or production)."""
    name = os.environ.get("DJANGO_ENV", "development")
    if name not in {"development", "test", "production"}:
        raise RuntimeError(f"DJANGO_ENV must be development, test or production, not {name!r}")
    return f"config.settings.{name}"
