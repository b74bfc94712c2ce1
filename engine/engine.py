"""The Engine: one method per command, plain data in and out.

Each command restores the instance from its snapshot on the cached spec, applies one change, runs
the engine steps, and returns a CommandResult with the new snapshot, open tasks, timers, messages,
facts and platform calls. Nothing is stored here; the application saves the result in one
transaction.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins import NoneTaskMixin, StartEventMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from . import snapshot as snapshots
from .errors import EngineError, MessageNotAccepted, ScriptError, TaskNotFound
from .loader import specs_for
from .results import CommandResult, ProcessPackage
from .script_engine import Clock, SafeScriptEngine, utc_now
from .scripts import ScriptLimits, ScriptRunner
from .state import Reader, correlations_for

_MAX_ROUNDS = 100
_DEFAULT_LIMITS = ScriptLimits()


class Engine:
    """Runs process instances of loaded packages.

    :param clock: returns the current time (aware); timers are due against it.
    :param script_limits: CPU, wall-clock and memory limits of each script run.
    :param platform_functions: names of the platform functions scripts may call (``notify`` ...);
        calls are returned in ``CommandResult.calls``, never executed by the engine.
    """

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        script_limits: ScriptLimits = _DEFAULT_LIMITS,
        platform_functions: Collection[str] = (),
        lookups: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.clock = clock
        self.script_limits = script_limits
        self.platform_functions = tuple(platform_functions)
        #: Pure functions expressions may call (timers, conditions, DMN cells), e.g. SLA durations.
        self.lookups = dict(lookups or {})

    # -- commands -------------------------------------------------------------------------------

    def start(
        self,
        package: ProcessPackage,
        data: dict[str, Any],
        *,
        message: str | None = None,
        complete_start_task: bool = True,
        scheduled: bool = False,
    ) -> CommandResult:
        """Start an instance with ``data``; complete the package's start task with it, if any.

        A process may have several start events. ``scheduled`` runs only its timer start event (the
        platform's scheduler starts one instance per occurrence); ``message`` runs only the message start
        events of that name, and the caller delivers the message next (no start task is completed);
        otherwise (a start by hand) its none start events run, or its timer start when it has no other.
        The start events not chosen are cancelled, so they never wait for anything.
        ``complete_start_task=False`` leaves the start task open for its lane (a scheduled start).
        """
        script_engine = self._script_engine()
        spec, subprocess_specs = specs_for(package)
        workflow = snapshots.attach(
            BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine), package
        )
        reader = Reader(workflow, package, script_engine.now())
        reader.fact("started", package.process_id, package.name, None)
        with _guard():
            _choose_start_events(workflow, package, message, scheduled)
            for task in workflow.get_tasks(state=TaskState.READY):
                task.data.update(copy.deepcopy(data))
            _run(workflow)
            if package.start_task and message is None and not scheduled and complete_start_task:
                task = next(
                    (
                        t
                        for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                        if t.task_spec.bpmn_id == package.start_task
                    ),
                    None,
                )
                if task is not None:
                    task.data.update(copy.deepcopy(data))
                    task.run()
                    _run(workflow)
        return reader.result(snapshots.dump, script_engine.calls)

    def complete_task(
        self, package: ProcessPackage, snapshot: str, task_id: str, data: dict[str, Any]
    ) -> CommandResult:
        """Complete the READY human task ``task_id`` with ``data`` and run on.

        :raises TaskNotFound: no READY human task with that id.
        """
        workflow, script_engine, reader = self._restore(package, snapshot)
        task = _find_task(workflow, task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotFound(
                f"there is no open task {task_id} in this instance",
                hint="Reload the task list; the task may have been completed or cancelled.",
            )
        with _guard():
            task.data.update(copy.deepcopy(data))
            task.run()
            _run(workflow)
        return reader.result(snapshots.dump, script_engine.calls)

    def fire_due_timers(self, package: ProcessPackage, snapshot: str) -> CommandResult:
        """Fire every timer due by the clock, in due order, and run on.

        Overdue timers are replayed at their own due times, earliest first, so a reminder due
        before an interrupting deadline still fires, and timers reached on the way are computed
        from the time they were reached. Timers not yet due keep waiting.
        """
        workflow, script_engine, reader = self._restore(package, snapshot)
        now = script_engine.now()
        with _guard():
            for _ in range(_MAX_ROUNDS):
                due = [t.due_at for t in reader.waiting_timers() if t.due_at <= now]
                if not due:
                    break
                script_engine.replay_time = min(due)
                workflow.refresh_timers()
                _run(workflow)
            script_engine.replay_time = None
            workflow.refresh_timers()
            _run(workflow)
        return reader.result(snapshots.dump, script_engine.calls)

    def deliver_message(
        self, package: ProcessPackage, snapshot: str, name: str, payload: dict[str, Any]
    ) -> CommandResult:
        """Deliver message ``name`` with ``payload`` to a waiting, correlated catch event.

        :raises MessageNotAccepted: nothing waits for it, or the correlation does not match.
        """
        workflow, script_engine, reader = self._restore(package, snapshot)
        waiting = _waiting_message(workflow, name)
        with _guard():
            event = _correlated_event(workflow, script_engine, waiting, payload)
            try:
                workflow.send_event(event)
            except WorkflowException as exc:
                raise MessageNotAccepted(
                    f"no waiting event accepts the message '{name}'",
                    hint="Check the message name and its correlation values.",
                ) from exc
            _run(workflow)
        return reader.result(snapshots.dump, script_engine.calls)

    def cancel(self, package: ProcessPackage, snapshot: str) -> CommandResult:
        """Cancel the instance: every open task, timer and subscription ends."""
        workflow, script_engine, reader = self._restore(package, snapshot)
        workflow.cancel()
        reader.fact("cancelled", package.process_id, package.name, None)
        return reader.result(snapshots.dump, script_engine.calls)

    def state(self, package: ProcessPackage, snapshot: str) -> CommandResult:
        """Describe the instance without changing it (the snapshot is returned as given)."""
        workflow, script_engine, reader = self._restore(package, snapshot)
        return reader.result(snapshot, [])

    # -- helpers --------------------------------------------------------------------------------

    def _script_engine(self) -> SafeScriptEngine:
        return SafeScriptEngine(
            ScriptRunner(self.script_limits, self.platform_functions), self.clock, self.lookups
        )

    def _restore(
        self, package: ProcessPackage, snapshot: str
    ) -> tuple[BpmnWorkflow, SafeScriptEngine, Reader]:
        script_engine = self._script_engine()
        workflow = snapshots.load(snapshot, package, specs_for(package))
        workflow.script_engine = script_engine
        return workflow, script_engine, Reader(workflow, package, script_engine.now())


def _choose_start_events(
    workflow: BpmnWorkflow, package: ProcessPackage, message: str | None, scheduled: bool
) -> None:
    """Cancel the start events that do not apply to this start (see ``Engine.start``)."""
    starts = [
        task
        for task in workflow.get_tasks()
        if isinstance(task.task_spec, StartEventMixin)
        and task.parent is not None
        and task.workflow is workflow
    ]

    def kind(task: Any) -> str:
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition):
            return f"message:{definition.name}"
        return "timer" if task.task_spec.bpmn_id == package.timer_start_id else "none"

    if message is not None:
        wanted = f"message:{message}"
    elif scheduled or not any(kind(task) == "none" for task in starts):
        wanted = "timer"
    else:
        wanted = "none"
    for task in starts:
        if kind(task) != wanted and task.state not in (TaskState.COMPLETED, TaskState.CANCELLED):
            task.cancel()


def _run(workflow: BpmnWorkflow) -> None:
    """Run engine steps until only human tasks and waiting events are left.

    Plain (none) tasks are pass-through: they are completed like engine tasks.
    """
    for _ in range(_MAX_ROUNDS):
        workflow.do_engine_steps()
        ready = workflow.get_tasks(state=TaskState.READY)
        passthrough = [t for t in ready if isinstance(t.task_spec, NoneTaskMixin)]
        if not passthrough and not any(not t.task_spec.manual for t in ready):
            return
        for task in passthrough:
            task.run()
    raise EngineError("the instance did not settle after many steps", hint="Look for an endless loop.")


def _find_task(workflow: BpmnWorkflow, task_id: str) -> Any:
    try:
        return workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, TypeError, KeyError, WorkflowException):
        return None


def _waiting_message(workflow: BpmnWorkflow, name: str) -> tuple[Any, MessageEventDefinition]:
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            return task, definition
    raise MessageNotAccepted(
        f"the instance is not waiting for the message '{name}'",
        hint="Deliver it to an instance that waits for it, or check the message name.",
    )


def _correlated_event(
    workflow: BpmnWorkflow,
    script_engine: SafeScriptEngine,
    waiting: tuple[Any, MessageEventDefinition],
    payload: dict[str, Any],
) -> BpmnEvent:
    """Build the event, refusing it unless its correlation matches the instance's.

    A message start event has nothing to match yet: the message sets the instance's correlation.
    """
    task, definition = waiting
    try:
        correlations = definition.calculate_correlations(
            script_engine, definition.correlation_properties, payload
        )
    except ScriptError as exc:
        raise MessageNotAccepted(
            f"the message '{definition.name}' lacks its correlation values: {exc.message}",
            hint="Include the correlation values (e.g. the business key) in the payload.",
        ) from exc
    if definition.correlation_properties and not isinstance(task.task_spec, StartEventMixin):
        expected = correlations_for(task)
        if not correlations or any(expected.get(key) != value for key, value in correlations.items()):
            raise MessageNotAccepted(
                f"the message '{definition.name}' does not correlate with this instance",
                hint="The correlation values in the payload must match the instance's.",
            )
    return BpmnEvent(definition, payload, correlations)


@contextmanager
def _guard() -> Iterator[None]:
    """Turn SpiffWorkflow's runtime errors into engine errors naming the element."""
    try:
        yield
    except EngineError:
        raise
    except SpiffWorkflowException as exc:
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, EngineError):
                raise cause from exc
            cause = cause.__cause__ or cause.__context__
        spec = getattr(exc, "task_spec", None)
        raise ScriptError(
            f"the process failed: {exc}",
            element_id=getattr(spec, "bpmn_id", None),
            hint="Check the expressions and data of that element.",
        ) from exc
