import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def test_a_failing_page_test_leaves_a_screenshot(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/browser/probe_failing_page.py",
            "-o",
            "python_files=probe_*.py",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=ROOT,
        env={**os.environ, "TEST_RESULTS_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    shots = list((tmp_path / "screenshots").glob("*.png"))
    assert [shot.name for shot in shots] == [
        "tests_browser_probe_failing_page__test_fails_after_rendering[chromium].png"
    ]
    assert shots[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
