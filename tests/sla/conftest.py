"""Fixtures of the SLA tests: uploads go to a temporary media root; a fixed clock."""

from __future__ import annotations

import pytest
import time_machine

from tests.sla.factories import at


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def july():
    """2026-07-15 10:00 Beijing: inside the test contracts' 2026 service year."""
    with time_machine.travel(at(2026, 7, 15, 10), tick=False) as traveller:
        yield traveller
