"""Snapshots of workflow instances, with the spec stored BY REFERENCE (process id + content hash).

The serializer is SpiffWorkflow's, configured with SPIFF_CONFIG, except the top-level workflow
converter: it writes ``spec_ref`` instead of the whole spec and takes the parsed spec from the
cache when restoring. A snapshot of another process version (or serializer version) is refused.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .errors import SnapshotError
from .results import ProcessPackage
from .script_engine import CLOCK_TIMERS

#: Identifies our snapshot format; bump when the layout changes.
SNAPSHOT_FORMAT = "itsm-engine-snapshot/1"


class SpecRefWorkflowConverter(BpmnWorkflowConverter):
    """Writes the top-level workflow with a reference to its spec instead of the spec itself."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        """Like BpmnWorkflowConverter.to_dict, with ``spec_ref`` instead of the specs."""
        dct = WorkflowConverter.to_dict(self, workflow)
        process_id, content_hash = workflow.spec_ref  # set by engine.snapshot.attach
        dct["platform_format"] = SNAPSHOT_FORMAT
        dct["spec_ref"] = {"process_id": process_id, "content_hash": content_hash}
        dct["pruned_completed"] = list(getattr(workflow, "pruned_completed", []))
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], specs: tuple[Any, dict[str, Any]] | None = None) -> BpmnWorkflow:
        """Rebuild the workflow on the cached ``specs`` (spec, subprocess specs)."""
        if specs is None:
            raise SnapshotError("a snapshot can only be restored with its process version")
        spec, subprocess_specs = specs
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        ref = dct["spec_ref"]
        workflow.spec_ref = (ref["process_id"], ref["content_hash"])
        workflow.pruned_completed = list(dct.get("pruned_completed") or [])
        return workflow


def _configure() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecRefWorkflowConverter
    for clock_class in CLOCK_TIMERS.values():
        config[clock_class] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


# The serializer flips a mode flag on its registry while dumping, so each thread gets its own.
_local = threading.local()


def _serializer() -> BpmnWorkflowSerializer:
    serializer = getattr(_local, "serializer", None)
    if serializer is None:
        serializer = _local.serializer = _configure()
    return serializer


def attach(workflow: BpmnWorkflow, package: ProcessPackage) -> BpmnWorkflow:
    """Record which process version ``workflow`` runs, for :func:`dump`."""
    workflow.spec_ref = (package.process_id, package.content_hash)
    return workflow


def dump(workflow: BpmnWorkflow) -> str:
    """Serialize ``workflow`` to JSON text, without its spec and without finished subprocesses."""
    prune_finished_subprocesses(workflow)
    return _serializer().serialize_json(workflow)


def prune_finished_subprocesses(workflow: BpmnWorkflow) -> int:
    """Drop the inner workflows of subprocesses that have finished (every pass of a loop keeps one).

    Their results were merged into the parent when they finished and their steps are in the platform's
    audit log; keeping them would make every snapshot, and every later command, grow with each loop pass.
    Which steps ran, and when, stays in ``pruned_completed`` for the instance's history.
    """
    kept = getattr(workflow, "pruned_completed", None)
    if kept is None:
        kept = workflow.pruned_completed = []
    pruned = 0
    for task_id in list(workflow.subprocesses):
        if task_id not in workflow.subprocesses:  # removed with its parent already
            continue
        task = workflow.get_task_from_id(task_id)
        if task is not None and task.has_state(TaskState.FINISHED_MASK):
            _drop(workflow, task_id, kept)
            pruned += 1
    return pruned


def _drop(workflow: BpmnWorkflow, task_id: Any, kept: list) -> None:
    """Remove one subprocess and those nested in it, recording their completed steps once each."""
    subprocess = workflow.subprocesses.pop(task_id)
    for inner in subprocess.tasks.values():
        element = getattr(inner.task_spec, "bpmn_id", None)
        if element and inner.state == TaskState.COMPLETED:
            kept.append([element, inner.last_state_change])
        if inner.id in workflow.subprocesses:
            _drop(workflow, inner.id, kept)


def load(snapshot: str, package: ProcessPackage, specs: tuple[Any, dict[str, Any]]) -> BpmnWorkflow:
    """Restore a workflow from ``snapshot`` on ``specs`` (the parsed spec of ``package``).

    :raises SnapshotError: not a snapshot of ours, another serializer version, or another process
        version than ``package``.
    """
    try:
        dct = json.loads(snapshot)
    except (TypeError, ValueError) as exc:
        raise SnapshotError("the snapshot is not valid JSON", hint="Restore it from the database.") from exc
    if not isinstance(dct, dict) or dct.get("platform_format") != SNAPSHOT_FORMAT:
        raise SnapshotError(
            "the snapshot was not written by this engine (unknown format)",
            hint="Snapshots that embed their spec are not supported; restart the instance.",
        )
    version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
    if version != SPIFF_SERIALIZER_VERSION:
        raise SnapshotError(
            f"the snapshot has serializer version {version}, this engine writes {SPIFF_SERIALIZER_VERSION}",
            hint="Migrate the instance with the engine version that wrote it.",
        )
    ref = dct.get("spec_ref") or {}
    if (ref.get("process_id"), ref.get("content_hash")) != (package.process_id, package.content_hash):
        raise SnapshotError(
            f"the snapshot belongs to process {ref.get('process_id')} version "
            f"{str(ref.get('content_hash'))[:12]}, "
            f"not {package.process_id} version {package.content_hash[:12]}",
            file=package.bpmn_file,
            hint="Load the process version the instance was started with, or migrate the instance.",
        )
    return _serializer().from_dict(dct, specs=specs)
