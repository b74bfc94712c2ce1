"""Timer-started processes: the platform starts one NEW instance per occurrence of the schedule in the BPMN.

The schedule is the timer start event's ISO 8601 repeating interval (``R/2027-01-01T00:00:00+08:00/P1Y``,
``R4/2027-01-01T09:00:00+08:00/P3M``). The database holds the next occurrence; a due occurrence is claimed
with a lease (SKIP LOCKED on PostgreSQL) and started only while the claimant still owns it. Occurrences
missed while the platform was down start at start-up, each with its lateness in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import isodate
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessVersion, Schedule, Timer, User
from app.services.core.runtime import get_runtime
from app.services.core.unit import command
from app.services.errors import Forbidden, NotFound, ProcessProblem
from app.services.workflow.pipeline import Command
from app.services.workflow.starting import current_version, start_as_platform
from app.services.workflow.timers import LEASE, worker_id

#: At most this many missed occurrences of one schedule are started per tick (the rest follow next tick).
CATCH_UP_PER_TICK = 12


@dataclass(frozen=True)
class Cycle:
    """A parsed repeating interval: how many times (None: for ever), from when, how often."""

    count: int | None
    start: datetime
    every: isodate.Duration | timedelta

    def occurrence(self, index: int) -> datetime:
        """The ``index``-th occurrence (0 is the start), computed from the start so months never drift."""
        return self.start + self.every * index

    def first_at_or_after(self, moment: datetime) -> int | None:
        """The index of the first occurrence at or after ``moment`` (None when the cycle has ended)."""
        index = 0
        if self.start < moment:  # jump close, then step: durations in months have no fixed length
            approx = (moment - self.start) / max(self.occurrence(1) - self.start, timedelta(seconds=1))
            index = max(0, int(approx) - 1)
            while self.occurrence(index) < moment:
                index += 1
        if self.count is not None and index >= self.count:
            return None
        return index


def parse_cycle(expression: str, now: datetime) -> Cycle:
    """Parse ``R[n]/<start>/<duration>`` or ``R[n]/<duration>`` (from now); naive start times are refused."""
    parts = expression.strip().strip("'\"").split("/")
    if len(parts) not in (2, 3) or not parts[0].upper().startswith("R"):
        raise ValueError(
            f"'{expression}' is not a repeating interval such as R/2027-01-01T00:00:00+08:00/P1Y"
        )
    count = int(parts[0][1:]) if parts[0][1:] else None
    start = now
    if len(parts) == 3:
        start = isodate.parse_datetime(parts[1])
        if start.tzinfo is None:
            raise ValueError(f"the start of '{expression}' has no time zone; add one such as +08:00")
    every = isodate.parse_duration(parts[-1])
    if (now + every) <= now:
        raise ValueError(f"the interval of '{expression}' must be positive")
    return Cycle(count, start, every)


def sync_from_packages(packages: dict, now: datetime) -> None:
    """After a deploy: one schedule per timer-started process; a changed expression restarts its count."""
    rows = {row.process_id: row for row in db.session.scalars(select(Schedule))}
    for process_id, package in packages.items():
        row = rows.pop(process_id, None)
        if not package.start_timer:
            if row is not None:
                row.enabled = False
            continue
        try:
            cycle = parse_cycle(package.start_timer, now)
        except ValueError as exc:
            raise ProcessProblem(
                f"file {package.bpmn_file}: the timer start event's schedule: {exc}"
            ) from exc
        if row is not None and row.expression == package.start_timer and row.enabled:
            continue
        index = cycle.first_at_or_after(now)
        row = row or Schedule(process_id=process_id)
        row.expression, row.enabled = package.start_timer, True
        row.next_at = cycle.occurrence(index) if index is not None else None
        row.remaining = None if cycle.count is None or index is None else cycle.count - index
        db.session.add(row)
    for row in rows.values():
        row.enabled = False


@command
def _claim(now: datetime, owner: str) -> list[int]:
    query = (
        select(Schedule)
        .where(
            Schedule.enabled,
            Schedule.next_at <= now,
            Schedule.lease_expires_at.is_(None) | (Schedule.lease_expires_at < now),
        )
        .with_for_update(skip_locked=True)
    )
    rows = list(db.session.scalars(query))
    for row in rows:
        row.lease_owner, row.lease_expires_at = owner, now + LEASE
    ids = [row.id for row in rows]
    db.session.commit()
    return ids


def fire_due_schedules() -> int:
    """Start an instance for every due occurrence this worker can lease; returns how many started."""
    owner = worker_id()
    started = 0
    for schedule_id in _claim(get_runtime().now(), owner):
        for _ in range(CATCH_UP_PER_TICK):
            if not _start_occurrence(schedule_id, owner):
                break
            started += 1
        _release(schedule_id, owner)
    return started


def _start_occurrence(schedule_id: int, owner: str) -> bool:
    with Command() as cmd:
        row = db.session.scalar(
            select(Schedule)
            .where(Schedule.id == schedule_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        # Start only while this worker owns the lease: a worker whose lease ran out must not start twice.
        if (
            row is None
            or row.lease_owner != owner
            or row.lease_expires_at is None
            or row.lease_expires_at < cmd.now
            or row.next_at is None
            or row.next_at > cmd.now
            or not row.enabled
        ):
            return False
        occurrence = row.next_at
        _start(cmd, current_version(row.process_id), occurrence, manual=False)
        cycle = parse_cycle(row.expression, cmd.now)
        index = cycle.first_at_or_after(occurrence + timedelta(microseconds=1))
        row.remaining = None if row.remaining is None else row.remaining - 1
        row.next_at = cycle.occurrence(index) if index is not None and row.remaining != 0 else None
        row.last_started_at = cmd.now
    return True


@command
def _release(schedule_id: int, owner: str) -> None:
    row = db.session.get(Schedule, schedule_id)
    if row is not None and row.lease_owner == owner:
        row.lease_owner = row.lease_expires_at = None
        db.session.commit()


def _start(
    cmd: Command, version: ProcessVersion, occurrence: datetime, *, manual: bool, actor: str = "system"
):
    lateness = max(0.0, (cmd.now - occurrence).total_seconds())
    extra = {"sys_occurrence_at": occurrence.isoformat()}
    return start_as_platform(
        cmd,
        version,
        extra,
        kind="scheduled_start",
        complete_start_task=False,
        scheduled=True,
        actor=actor,
        payload={"occurrence_at": occurrence.isoformat(), "lateness_s": lateness, "manual": manual},
    )


def start_scheduled_now(actor: User, process_id: str):
    """Start a scheduled process at once (admins, process owners); the schedule itself does not move."""
    if not actor.role_codes & {"admin", "process_owner"}:
        raise Forbidden(_l("Only administrators and process owners may start a scheduled process by hand."))
    with Command() as cmd:
        version = current_version(process_id)
        if not cmd.runtime.package_for(version).start_timer:
            raise NotFound(_l("This process is not started on a schedule."))
        instance = _start(cmd, version, cmd.now, manual=True, actor=actor.username)
    return instance


def next_schedule_at() -> datetime | None:
    """When the earliest enabled schedule is due next."""
    return db.session.scalar(
        select(Schedule.next_at)
        .where(Schedule.enabled, Schedule.next_at.is_not(None))
        .order_by(Schedule.next_at)
        .limit(1)
    )


@dataclass(frozen=True)
class Upcoming:
    """What the platform will do next: scheduled starts and waiting timers."""

    schedules: list[tuple[Schedule, list[datetime]]]
    timers: list[Timer]


def upcoming_work(actor: User, *, occurrences: int = 5, timers: int = 50) -> Upcoming:
    """The next occurrences of every schedule and the next waiting timers (admins, process owners)."""
    if not actor.role_codes & {"admin", "process_owner"}:
        raise Forbidden(_l("Only administrators and process owners may see the schedules."))
    now = get_runtime().now()
    listed = []
    for row in db.session.scalars(select(Schedule).order_by(Schedule.next_at)):
        upcoming_at: list[datetime] = []
        if row.enabled and row.next_at is not None:
            cycle = parse_cycle(row.expression, now)
            index = cycle.first_at_or_after(row.next_at)
            left = occurrences if row.remaining is None else min(occurrences, row.remaining)
            upcoming_at = [cycle.occurrence(index + k) for k in range(left)] if index is not None else []
        listed.append((row, upcoming_at))
    waiting = db.session.scalars(
        select(Timer).where(Timer.fired_at.is_(None)).order_by(Timer.due_at).limit(timers)
    )
    return Upcoming(listed, list(waiting))
