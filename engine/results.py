"""Plain data the engine takes and returns: packages, tasks, timers, messages, facts, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .scripts import PlatformCall


@dataclass(frozen=True)
class UserTaskSpec:
    """A user task of a process: where it is, who does it (lane → role), which form it shows."""

    element_id: str
    name: str
    lane: str
    role: str
    form: str
    documentation: str | None


@dataclass(frozen=True)
class ProcessPackage:
    """A loaded, linted process version: its files, content hash and what the platform needs.

    ``start_timer`` is the expression of a timer start event (the platform's schedule, e.g.
    ``R/2027-01-01T00:00:00+08:00/P1Y``); instances themselves start at once.
    ``start_messages`` names the messages of message start events.
    """

    process_id: str
    name: str
    content_hash: str
    files: dict[str, str]
    user_tasks: dict[str, UserTaskSpec]
    start_task: str | None
    lanes: dict[str, str]
    start_timer: str | None = None
    #: The element id of the timer start event (a scheduled start runs from it, a start by hand does not).
    timer_start_id: str | None = None
    start_messages: tuple[str, ...] = ()
    #: ``spiffworkflow:properties`` of every flow element that has some (element id -> name -> value),
    #: e.g. ``separateFrom``, ``assignee``, ``notifyTo`` / ``notifyText`` (docs/contracts.md).
    element_properties: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Element id -> element name, for every flow element (history and notices name steps by these).
    element_names: dict[str, str] = field(default_factory=dict)
    #: Boundary event id -> (id of the activity it is attached to, whether it interrupts it).
    boundary_events: dict[str, tuple[str, bool]] = field(default_factory=dict)

    @property
    def bpmn_file(self) -> str:
        """The name of the BPMN file in ``files``."""
        return next(name for name in self.files if not name.lower().endswith(".dmn"))


@dataclass(frozen=True)
class HumanTask:
    """An open (READY) user task: what the task list shows and what completing needs."""

    task_id: str
    element_id: str
    name: str
    lane: str
    role: str
    form: str
    data: dict[str, Any]


@dataclass(frozen=True)
class WaitingTimer:
    """A timer event the instance waits on, with its due time (aware, UTC)."""

    task_id: str
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class MessageSubscription:
    """A message catch event the instance waits on, with the correlation values it expects."""

    task_id: str
    element_id: str
    name: str
    correlation: dict[str, Any]


@dataclass(frozen=True)
class OutgoingMessage:
    """A message the instance threw that no catch event inside it took; the app delivers it."""

    name: str
    correlation: dict[str, Any]
    payload: dict[str, Any]


@dataclass(frozen=True)
class Fact:
    """One audit fact of a command.

    kinds: ``started``, ``task_completed``, ``gateway_taken``, ``event_reached``, ``ended``,
    ``cancelled``.
    """

    kind: str
    element_id: str
    name: str
    lane: str | None
    at: datetime


@dataclass(frozen=True)
class CommandResult:
    """Everything a command changed, for the application to store in one transaction."""

    snapshot: str
    status: str
    open_tasks: list[HumanTask]
    timers: list[WaitingTimer]
    messages: list[OutgoingMessage]
    facts: list[Fact]
    data: dict[str, Any]
    completed_elements: list[str]
    active_elements: list[str]
    subscriptions: list[MessageSubscription] = field(default_factory=list)
    calls: list[PlatformCall] = field(default_factory=list)
