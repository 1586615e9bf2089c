import pytest


@pytest.fixture(autouse=True)
def _loyalty_defaults(loyalty_defaults):
    """A till's receipts earn points: the default tiers and earning rules (tests/conftest.py)."""
