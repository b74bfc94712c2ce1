"""Reading an instance: open tasks, timers, subscriptions, outgoing messages, facts, status."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins import (
    ExclusiveGatewayMixin,
    InclusiveGatewayMixin,
    ParallelGatewayMixin,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.util.task import TaskState

from .parser import timer_definitions
from .results import (
    CommandResult,
    Fact,
    HumanTask,
    MessageSubscription,
    OutgoingMessage,
    ProcessPackage,
    WaitingTimer,
)
from .scripts import PlatformCall

_GATEWAYS = (ExclusiveGatewayMixin, InclusiveGatewayMixin, ParallelGatewayMixin)


def all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """Every task of the instance, subprocesses included, in the order they last changed."""
    tasks = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        tasks.extend(subprocess.tasks.values())
    return sorted(tasks, key=lambda t: t.last_state_change)


def _element(task: Any) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def _kind(task_spec: Any) -> str:
    if isinstance(task_spec, _GATEWAYS) or type(task_spec).__name__ == "EventBasedGateway":
        return "gateway_taken"
    if isinstance(task_spec, CatchingEvent | ThrowingEvent):
        return "event_reached"
    return "task_completed"


def due_time(task: Any) -> datetime | None:
    """The due time (aware UTC) of a waiting timer task, once computed by the engine."""
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    definitions = timer_definitions(task.task_spec.event_definition)
    if definitions and isinstance(definitions[0], CycleTimerEventDefinition):
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return None
        value = value["next"]
    due = value if isinstance(value, datetime) else TimerEventDefinition.parse_time_or_duration(str(value))
    if not isinstance(due, datetime):
        return None
    return due.astimezone(UTC)


def _flatten(correlations: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for value in correlations.values():
        if isinstance(value, dict):
            flat.update(value)
    return flat


class Reader:
    """Collects what a command did to ``workflow`` into a CommandResult.

    Create it right after restoring (it remembers what was already completed), then call
    :meth:`result` after the change.
    """

    def __init__(self, workflow: BpmnWorkflow, package: ProcessPackage, now: datetime) -> None:
        self.workflow = workflow
        self.package = package
        self.now = now
        self.completed_before = {t.id for t in all_tasks(workflow) if t.state == TaskState.COMPLETED}
        self.was_completed = workflow.is_completed()
        self.facts: list[Fact] = []

    def fact(self, kind: str, element_id: str, name: str, lane: str | None) -> None:
        """Record a fact of this command (at the command's time)."""
        self.facts.append(Fact(kind, element_id, name, lane, self.now))

    def status(self) -> str:
        """``running``, ``completed`` or ``cancelled``."""
        if not self.workflow.is_completed():
            return "running"
        return "completed" if self.workflow.success else "cancelled"

    def result(self, dump: Callable[[BpmnWorkflow], str] | str, calls: list[PlatformCall]) -> CommandResult:
        """Build the CommandResult for the workflow as it is now.

        :param dump: serializes the workflow; called after outgoing messages are drained, so a
            stored snapshot never holds a message twice. A string is taken as the snapshot as is.
        """
        messages = self._messages()
        tasks = all_tasks(self.workflow)
        completed = [t for t in tasks if t.state == TaskState.COMPLETED and _element(t)]
        for task in completed:
            if task.id not in self.completed_before:
                spec = task.task_spec
                own = self.package.user_tasks.get(spec.bpmn_id)
                lane = (own.lane if own else "") or spec.lane
                self.fact(_kind(spec), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, lane)
        status = self.status()
        if status == "completed" and not self.was_completed:
            self.fact("ended", self.package.process_id, self.package.name, None)
        active = [t for t in tasks if t.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED)]
        last = [t for t in tasks if t.state == TaskState.COMPLETED]
        open_tasks, timers, subscriptions = self._open_tasks(), self._timers(), self._subscriptions()
        data = copy.deepcopy(last[-1].data) if last else {}
        # Serialized last: dumping prunes finished loop passes, whose facts are read above; the steps of
        # pruned passes stay in the history through ``pruned_completed``.
        snapshot = dump if isinstance(dump, str) else dump(self.workflow)
        completed = [t for t in all_tasks(self.workflow) if t.state == TaskState.COMPLETED and _element(t)]
        steps = [(when, element) for element, when in getattr(self.workflow, "pruned_completed", [])]
        steps += [(t.last_state_change, _element(t)) for t in completed]
        history = [element for _, element in sorted(steps, key=lambda step: step[0])]
        return CommandResult(
            snapshot=snapshot,
            status=status,
            open_tasks=open_tasks,
            timers=timers,
            messages=messages,
            facts=list(self.facts),
            data=data,
            completed_elements=history,
            active_elements=list(dict.fromkeys(e for t in active if (e := _element(t)))),
            subscriptions=subscriptions,
            calls=list(calls),
        )

    def _open_tasks(self) -> list[HumanTask]:
        open_tasks = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            user_task = self.package.user_tasks.get(spec.bpmn_id)
            # The package knows each task's own lane; SpiffWorkflow gives tasks inside a subprocess the
            # subprocess's lane, which would offer them to the wrong role.
            lane = (user_task.lane if user_task else "") or spec.lane or ""
            open_tasks.append(
                HumanTask(
                    task_id=str(task.id),
                    element_id=spec.bpmn_id,
                    name=spec.bpmn_name or spec.bpmn_id,
                    lane=lane,
                    role=(user_task.role if user_task else "") or self.package.lanes.get(lane) or "",
                    form=user_task.form if user_task else "",
                    data=copy.deepcopy(task.data),
                )
            )
        return open_tasks

    def _waiting(self) -> list[Any]:
        return [
            t
            for t in all_tasks(self.workflow)
            if t.state == TaskState.WAITING and isinstance(t.task_spec, CatchingEvent)
        ]

    def waiting_timers(self) -> list[WaitingTimer]:
        """The timers the instance waits on now, earliest first."""
        return self._timers()

    def _timers(self) -> list[WaitingTimer]:
        timers = []
        for task in self._waiting():
            if timer_definitions(task.task_spec.event_definition):
                due = due_time(task)
                if due is not None:
                    timers.append(WaitingTimer(str(task.id), _element(task) or "", due))
        return sorted(timers, key=lambda t: t.due_at)

    def _subscriptions(self) -> list[MessageSubscription]:
        """Waiting message catches, each with the correlation values its own (sub)workflow holds."""
        subscriptions = []
        for task in self._waiting():
            definition = task.task_spec.event_definition
            if isinstance(definition, MessageEventDefinition):
                expected = {}
                known = correlations_for(task)
                for prop in definition.correlation_properties:
                    for key in prop.correlation_keys:
                        value = known.get(key, {}).get(prop.name)
                        if value is not None:
                            expected[prop.name] = value
                subscriptions.append(
                    MessageSubscription(str(task.id), _element(task) or "", definition.name, expected)
                )
        return subscriptions

    def _messages(self) -> list[OutgoingMessage]:
        messages = []
        for event in self.workflow.get_events():
            payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
            messages.append(
                OutgoingMessage(
                    event.event_definition.name, _flatten(event.correlations), copy.deepcopy(payload)
                )
            )
        return messages


def correlations_for(task: Any) -> dict[str, dict[str, Any]]:
    """The correlation values a waiting task sees: its own workflow's first, then those of the workflows
    around it. SpiffWorkflow keeps them per (sub)workflow, and a loop body is a subprocess: a request thrown
    inside it sets the subprocess's values, which its reply must match."""
    merged: dict[str, dict[str, Any]] = {}
    workflow = task.workflow
    while workflow is not None:
        for key, values in (workflow.correlations or {}).items():
            merged.setdefault(key, dict(values))
        workflow = getattr(workflow, "parent_workflow", None)
    return merged
