import pytest


@pytest.fixture(autouse=True)
def _loyalty_defaults(loyalty_defaults):
    """Every loyalty test starts from the default tiers and earning rules (tests/conftest.py)."""
