"""The Chinese catalogue holds every message makemessages finds, not only those in the .po."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
# As the Makefile's `messages` target runs it.
MAKEMESSAGES = [
    "makemessages",
    "-l",
    "zh_Hans",
    "--no-obsolete",
    "--ignore=.venv",
    "--ignore=node_modules",
    "--ignore=static/vendor",
]
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", ".pgdata", "media", "test-output", "__pycache__", "*.mo"
)


@pytest.mark.slow
def test_makemessages_finds_no_message_without_its_chinese(tmp_path):
    missing = [tool for tool in ("xgettext", "msgmerge", "msguniq") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs GNU gettext ({', '.join(missing)}): apt-get install gettext")
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED, symlinks=True)
    run = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=copy,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr

    po = polib.pofile(str(copy / "locale/zh_Hans/LC_MESSAGES/django.po"))
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert (untranslated, fuzzy) == ([], []), (
        f"{len(untranslated)} untranslated, {len(fuzzy)} fuzzy: append them to the .po"
    )
