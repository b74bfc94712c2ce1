"""``FastForward``: loop passes repeated in memory, for the 500-pass tests of incident.bpmn and problem.bpmn.

Through the public API every command restores and rewrites the whole snapshot; here the instance is restored
once and driven on the SpiffWorkflow object with the engine's own step function (see ``FastForward``).
"""

from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskState

import engine.engine as engine_module
from engine import Engine
from engine import snapshot as snapshots
from engine.loader import specs_for
from tests.engine.incident_walk import incident_engine

# ---------------------------------------------------------------- engine stand-ins


def _skip_finished_subprocesses(self: Any) -> Any:
    """BpmnTaskIterator._next of SpiffWorkflow 3.2.0 with its check for finished subprocesses corrected.

    The original tests ``task.state >= TaskState.FINISHED_MASK``, which a COMPLETED task (64 < 448) never
    passes, so every query walks into every finished subprocess: each command costs time in proportion to all
    earlier loop passes. Here ``task.state & TaskState.FINISHED_MASK`` skips them, as intended.
    """
    if not self.task_list:
        raise StopIteration()
    task = self.task_list.pop(0)
    subprocess = task.workflow.top_workflow.subprocesses.get(task.id)
    if (
        (task._children or subprocess is not None)
        and (task.state >= self.min_state or subprocess is not None)
        and self.depth < self.max_depth
        and task.task_spec.name != self.end_at_spec
    ):
        finished = task.state & TaskState.FINISHED_MASK and self.task_filter.state <= TaskState.FINISHED_MASK
        subprocess_tasks = (
            [] if subprocess is None or self.skip_subprocesses or finished else [subprocess.task_tree]
        )
        self.task_list = subprocess_tasks + task.children + self.task_list
        self._update_depth(task)
    elif self.task_list:
        self._handle_leaf_depth(task)
    return task


class FastForward:
    """Repeats loop passes in memory, for the 500-pass tests; use it as a context manager.

    Through the public API every command restores and rewrites the whole snapshot, which grows with every
    pass, and SpiffWorkflow 3.2.0 walks every finished pass on every query (see
    ``_skip_finished_subprocesses``): 500 passes that way take many minutes. Inside the ``with`` block the
    instance is restored once, tasks are completed on the SpiffWorkflow object with the engine's own step
    function, and queries skip finished subprocesses. Loop bodies run in their own subprocess, so the steps
    are the same either way. ``snapshot()`` hands the instance back; the caller then checks it with the
    public API and SpiffWorkflow as shipped (a fresh Engine lists its open tasks), which is where a stalled
    loop would show.
    """

    def __init__(self, package: Any, snapshot: str) -> None:
        self.package = package
        self.workflow = snapshots.load(snapshot, package, specs_for(package))
        self.workflow.script_engine = incident_engine()._script_engine()
        self._shipped = BpmnTaskIterator._next
        #: names of the messages thrown so far (drained after every step, as the engine does)
        self.sent: list[str] = []

    def __enter__(self) -> FastForward:
        BpmnTaskIterator._next = _skip_finished_subprocesses
        return self

    def __exit__(self, *exc: object) -> None:
        BpmnTaskIterator._next = self._shipped

    def open_tasks(self) -> list[str]:
        """The element ids of the open (READY, manual) tasks, as engine.state.Reader finds them."""
        return [t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def do(self, element_id: str, data: dict[str, Any]) -> None:
        """Complete the only open task, which must be ``element_id``, with ``data``."""
        ready = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        assert [t.task_spec.bpmn_id for t in ready] == [element_id]
        ready[0].data.update(copy.deepcopy(data))
        ready[0].run()
        engine_module._run(self.workflow)
        self._drain()

    def _drain(self) -> None:
        self.sent.extend(event.event_definition.name for event in self.workflow.get_events())

    def deliver(self, name: str, payload: dict[str, Any]) -> None:
        """Deliver message ``name`` as Engine.deliver_message does (waiting catch, correlation, steps)."""
        waiting = engine_module._waiting_message(self.workflow, name)
        script_engine = self.workflow.script_engine
        self.workflow.send_event(
            engine_module._correlated_event(self.workflow, script_engine, waiting, payload)
        )
        engine_module._run(self.workflow)

    def snapshot(self) -> str:
        """The instance as a snapshot for the public API."""
        return snapshots.dump(snapshots.attach(self.workflow, self.package))

    def state(self) -> Any:
        """What a fresh Engine sees in the snapshot (CommandResult of Engine.state)."""
        return Engine().state(self.package, self.snapshot())
