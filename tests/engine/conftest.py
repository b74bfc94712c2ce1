"""Fixtures for engine tests: an engine with a fake clock (no Flask app involved)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import Engine, ScriptLimits
from tests.engine.engine_support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A clock at 2026-03-01 08:00 UTC that tests advance by hand."""
    return FakeClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def engine(clock: FakeClock) -> Engine:
    """An engine on the fake clock, with short script limits and the notify platform function."""
    return Engine(
        clock=clock, script_limits=ScriptLimits(cpu_seconds=1, wall_seconds=5), platform_functions={"notify"}
    )
