"""Corrections to SpiffWorkflow 3.2.0 (the pinned version), applied once when engine/ is imported.

BpmnTaskIterator._next is meant not to descend into a finished subprocess when the query wants only
unfinished tasks, but it tests ``task.state >= TaskState.FINISHED_MASK``, which a COMPLETED task (64 < 448)
never passes. Every query (``get_tasks(state=READY)``, each engine step) therefore walks every finished loop
pass, so a loop's commands get slower with every repetition. The corrected test skips a finished subprocess
unless the query asks for finished tasks. tests/engine/test_engine_patches.py holds the proof.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskState

_APPLIED = False


def _next(self: Any) -> Any:
    """BpmnTaskIterator._next with the finished-subprocess check corrected (see the module docstring)."""
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
        finished = bool(task.state & TaskState.FINISHED_MASK)
        wants_finished = bool(self.task_filter.state & TaskState.FINISHED_MASK)
        if subprocess is None or self.skip_subprocesses or (finished and not wants_finished):
            subprocess_tasks = []
        else:
            subprocess_tasks = [subprocess.task_tree]
        pushed = subprocess_tasks + task.children
        if self.depth_first:
            self.task_list = pushed + self.task_list
        else:
            self.task_list.extend(task.children + subprocess_tasks)
        if pushed:  # a skipped finished subprocess adds no depth (else loops stall after ~990 passes)
            self._update_depth(task)
        elif self.depth_first and self.task_list:
            self._handle_leaf_depth(task)
    elif self.depth_first and self.task_list:
        self._handle_leaf_depth(task)
    return task


def apply() -> None:
    """Install the corrections (idempotent)."""
    global _APPLIED
    if not _APPLIED:
        BpmnTaskIterator._next = _next
        _APPLIED = True
