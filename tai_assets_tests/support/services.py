"""What a test does when a service it needs (PostgreSQL, nginx) cannot run here."""

import os

import pytest


def unavailable(reason: str) -> None:
    """Skip (or, when CI requires the services, fail) with `reason`."""
    if os.environ.get("TAI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required here (TAI_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(reason)
