"""Helpers for engine tests: fixture files, a lane resolver, a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from engine import ProcessPackage, load_package

FIXTURES = Path(__file__).parent / "fixtures"
FORMS = {"record.json", "resolve.json", "investigate.json", "escalate.json", "review.json"}
ROLES = {"service_desk", "support_l1", "support_l2", "requester"}


def lane_role(name: str) -> str | None:
    """Resolve '服务台 (service_desk)' or a bare role id to the role id."""
    name = name.strip()
    if name.endswith(")") and "(" in name:
        name = name[name.rindex("(") + 1 : -1].strip()
    return name if name in ROLES else None


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def load(name: str, **kwargs: object) -> ProcessPackage:
    """Load fixtures/<name>.bpmn with the fixtures' DMN files."""
    return load_package(FIXTURES / f"{name}.bpmn", FIXTURES, forms=FORMS, lane_role=lane_role, **kwargs)
