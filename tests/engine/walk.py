"""The walker the process path tests share: ``ProcessWalk``, form data from forms/*.json, the loaders.

``ProcessWalk`` drives one instance command by command through engine/ (no Flask), restoring every returned
snapshot on a fresh Engine and checking each open task's lane, role and form. A process's walker is a
subclass that sets the class attributes (PROCESS_ID, TASKS, LANES, ACTORS, BASE, ENDS, BUSINESS_KEY, NOW,
the start) and overrides what its process does differently; incident_walk.py, problem_walk.py,
change_walk.py, change_emergency_walk.py, release_walk.py, config_audit_walk.py, knowledge_review_walk.py
and the walkers of test_isms_review_paths.py, test_sla_review_paths.py and test_continuity_drill_paths.py.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from jsonschema import Draft202012Validator
from SpiffWorkflow.util.task import TaskState

from engine import Engine, load_package
from engine import snapshot as snapshots

ROOT = Path(__file__).resolve().parents[2]
PROCESSES_DIR = ROOT / "processes"
FORMS_DIR = ROOT / "forms"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
#: Form data: form file name -> field -> value.
Base = dict[str, dict[str, Any]]


def lane_role(name: str) -> str | None:
    """The role id in brackets at the end of a lane name, or a bare role id."""
    match = re.search(r"\(([a-z][a-z0-9_]*)\)\s*$", name)
    if match:
        return match.group(1)
    return name if re.fullmatch(r"[a-z][a-z0-9_]*", name) else None


@cache
def form(name: str) -> dict[str, Any]:
    """A form file of forms/."""
    return json.loads((FORMS_DIR / name).read_text(encoding="utf-8"))


def form_data(
    name: str, actor: str, overrides: dict[str, Any], base: Base, business_key: str, now: str
) -> dict[str, Any]:
    """What the platform passes for a submitted form: base data, overrides, auto fields; validated.

    An override of None removes the key.
    """
    data = {k: v for k, v in {**copy.deepcopy(base[name]), **overrides}.items() if v is not None}
    autos = {"actor": actor, "now": now, "business_key": business_key}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


def load_process(
    process_id: str, text: str | None = None, lane_role: Callable[[str], str | None] = lane_role
):
    """A process of processes/ (or a variant of its text) with the DMN files it uses, loaded and linted like
    the platform loads it.

    One file at a time (not load_directory), so another process being edited cannot break these tests.
    """
    forms = {p.name for p in FORMS_DIR.glob("*.json")}
    if text is None:
        path = PROCESSES_DIR / f"{process_id}.bpmn"
        return load_package(path, PROCESSES_DIR, forms=forms, lane_role=lane_role)
    return load_package(text, PROCESSES_DIR, forms=forms, lane_role=lane_role, filename=f"{process_id}.bpmn")


@dataclass
class ProcessWalk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine.

    The class attributes describe the process; each process's walker subclasses this with its own.
    """

    PROCESS_ID: ClassVar[str]
    #: element id -> (role, form) of every user task
    TASKS: ClassVar[dict[str, tuple[str, str]]]
    #: role -> lane name
    LANES: ClassVar[dict[str, str]]
    #: a user of each role, as the actor of its tasks
    ACTORS: ClassVar[dict[str, str]]
    #: valid data for each form; a step overrides only what steers the path
    BASE: ClassVar[Base]
    #: the end events; ``ended`` asserts the instance completed at exactly one of them
    ENDS: ClassVar[tuple[str, ...]]
    BUSINESS_KEY: ClassVar[str]
    NOW: ClassVar[str]
    #: the start by hand: the starter's form, role and the start task it completes
    START_FORM: ClassVar[str | None] = None
    START_ROLE: ClassVar[str | None] = None
    START_TASK: ClassVar[str | None] = None
    #: the start by message: its name and the message start event (None: not checked)
    START_MESSAGE: ClassVar[str | None] = None
    MESSAGE_START: ClassVar[str | None] = None
    #: whether the restore check also compares the message subscriptions
    RESTORE_SUBSCRIPTIONS: ClassVar[bool] = False
    #: what else of a completed instance must be empty besides its open tasks
    ENDED_EMPTY: ClassVar[tuple[str, ...]] = ("subscriptions",)

    package: Any
    engine: Engine = field(default_factory=Engine)
    result: Any = None
    #: the steps taken so far (for the failure messages)
    steps: list[str] = field(default_factory=list)
    #: every message the instance threw so far, in order
    sent: list[Any] = field(default_factory=list)

    @property
    def messages(self) -> list[Any]:
        """Every message the instance threw so far, in order (``sent``)."""
        return self.sent

    def _took(self, result: Any) -> ProcessWalk:
        """Take ``result``: a fresh Engine restoring its snapshot must see the same instance."""
        restored = Engine().state(self.package, result.snapshot)
        assert restored.status == result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in result.open_tasks
        ]
        assert restored.completed_elements == result.completed_elements
        if self.RESTORE_SUBSCRIPTIONS:
            assert restored.subscriptions == result.subscriptions
        self.sent.extend(result.messages)
        self.result = result
        return self

    @classmethod
    def form_data(
        cls, name: str, actor: str, overrides: dict[str, Any], base: Base | None = None
    ) -> dict[str, Any]:
        """Valid data for the form ``name``: this process's BASE (or ``base``), overrides, auto fields."""
        base = cls.BASE if base is None else base
        return form_data(name, actor, overrides, base, cls.BUSINESS_KEY, cls.NOW)

    # ------------------------------------------------------------ starts

    def sys_keys(self, by: str | None = None) -> dict[str, str]:
        """The platform-set keys of a new instance started by ``by`` (default: the starter's actor)."""
        if by is None:
            by = "system" if self.START_ROLE is None else self.ACTORS[self.START_ROLE]
        return {"sys_business_key": self.BUSINESS_KEY, "sys_started_by": by, "sys_started_at": self.NOW}

    def start(self, **overrides: Any) -> ProcessWalk:
        """Start the instance by hand: the starter's form completes the start task."""
        assert self.START_FORM and self.START_ROLE and self.START_TASK
        data = self.form_data(self.START_FORM, self.ACTORS[self.START_ROLE], overrides)
        data.update(self.sys_keys())
        self._took(self.engine.start(self.package, data))
        self.steps.append(self.START_TASK)
        assert self.START_TASK in self.result.completed_elements
        return self

    def start_by_message(self, payload: dict[str, Any], name: str | None = None) -> ProcessWalk:
        """Start as the platform does on a message: start(message=...) with the payload, then deliver it."""
        name = name or self.START_MESSAGE
        data = {**payload, **self.sys_keys("system")}
        first = self.engine.start(self.package, data, message=name)
        assert first.open_tasks == []
        if self.MESSAGE_START is None:
            assert [s.name for s in first.subscriptions] == [name]
        else:
            assert [(s.element_id, s.name) for s in first.subscriptions] == [(self.MESSAGE_START, name)]
        self._took(first)
        self.deliver(name, payload)
        if self.MESSAGE_START is not None:
            assert self.MESSAGE_START in self.result.completed_elements
        if self.START_TASK is not None:
            assert self.START_TASK not in self.result.completed_elements
        return self

    def scheduled(self, by: str = "system", *, occurrence: bool = False, **options: Any) -> ProcessWalk:
        """Started with the platform's keys only: by the scheduler (an occurrence, ``occurrence``) or by hand
        without a start form; ``options`` go to Engine.start."""
        data = self.sys_keys(by)
        if occurrence:
            data["sys_occurrence_at"] = self.NOW
        return self._took(self.engine.start(self.package, data, **options))

    # ------------------------------------------------------------ tasks

    def tasks(self, element_id: str) -> list[Any]:
        """The open tasks of ``element_id``, each checked for its lane, role and form."""
        found = [t for t in self.result.open_tasks if t.element_id == element_id]
        role, form_name = self.TASKS[element_id]
        for task in found:
            assert (task.role, task.lane, task.form) == (role, self.LANES[role], form_name)
        return found

    def open_task(self, element_id: str) -> Any:
        """Assert ``element_id`` is the only open task, in its role's lane, with its form; return it."""
        assert self.result.status == "running"
        found = [t.element_id for t in self.result.open_tasks]
        assert found == [element_id], f"after {self.steps} expected {element_id} open; found {found}"
        return self.tasks(element_id)[0]

    def complete(self, task: Any, base: Base | None = None, /, **overrides: Any) -> ProcessWalk:
        """Complete ``task`` with its form's data (from ``base``, default BASE) plus overrides."""
        data = self.form_data(task.form, self.ACTORS[task.role], overrides, base)
        self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))
        self.steps.append(task.element_id)
        return self

    def do(self, element_id: str, base: Base | None = None, /, **overrides: Any) -> ProcessWalk:
        """Complete the open task ``element_id`` with its form's data (plus overrides)."""
        return self.complete(self.open_task(element_id), base, **overrides)

    # ------------------------------------------------------------ messages

    def deliver(self, name: str, payload: dict[str, Any] | None = None, /, **fields: Any) -> ProcessWalk:
        """Deliver message ``name`` (``payload`` and/or ``fields``) as the platform does after another
        instance threw it."""
        payload = {**(payload or {}), **fields}
        self._took(self.engine.deliver_message(self.package, self.result.snapshot, name, payload))
        self.steps.append(f"<{name}>")
        return self

    def waits_for(self, element_id: str, name: str, correlation: dict[str, Any]) -> ProcessWalk:
        """Assert the instance waits at ``element_id`` for ``name`` with that correlation; no task is open."""
        assert self.result.status == "running" and self.result.open_tasks == []
        assert [(s.element_id, s.name, s.correlation) for s in self.result.subscriptions] == [
            (element_id, name, correlation)
        ]
        return self

    def thrown(self, name: str) -> list[Any]:
        """The messages named ``name`` the instance threw so far."""
        return [m for m in self.sent if m.name == name]

    def message(self, name: str) -> Any:
        """The one message of that name the instance threw so far."""
        found = self.thrown(name)
        assert len(found) == 1, f"{name}: {found}"
        return found[0]

    # ------------------------------------------------------------ the end

    def ended(self, end_event: str | None = None) -> ProcessWalk:
        """Assert the instance completed at ``end_event`` (default: the one end event) with no task open."""
        if end_event is None:
            [end_event] = self.ENDS
        assert self.result.status == "completed" and self.result.open_tasks == []
        for name in self.ENDED_EMPTY:
            assert getattr(self.result, name) == [], name
        assert [e for e in self.result.completed_elements if e in self.ENDS] == [end_event]
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", end_event) in facts and ("ended", self.PROCESS_ID) in facts
        return self

    def passed(self, element_id: str) -> int:
        """How often ``element_id`` completed."""
        return self.result.completed_elements.count(element_id)


def replies(walk: ProcessWalk) -> list[tuple[str, dict, dict]]:
    """(name, correlation, payload) of every message the instance sent."""
    return [(m.name, m.correlation, m.payload) for m in walk.sent]


# ---------------------------------------------------------------- loops, in memory


def run_in_memory(package: Any, snapshot: str, rounds: int, steps: list[tuple[str, dict]]) -> str:
    """Drive ``rounds`` passes of a loop inside one restored workflow; return the snapshot after them.

    Through the public API every command restores and stores the whole snapshot, and a standard loop keeps
    each pass's subprocess in it, so 500 passes cost O(n^2): minutes on the 2-core box. Here the engine's own
    restore runs once and each step is SpiffWorkflow's ``task.run`` + ``do_engine_steps`` (what
    ``Engine.complete_task`` does; the loop bodies have no plain or script tasks), looking for the open task
    in the current pass only; no step may throw a message. One snapshot at the end goes back to the public
    API.
    """
    workflow, _, _ = Engine()._restore(package, snapshot)
    for index in range(rounds):
        for element_id, data in steps:
            current = next(reversed(workflow.subprocesses.values()))
            [task] = current.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.bpmn_id == element_id, (index, task.task_spec.bpmn_id)
            task.data.update(copy.deepcopy(data))
            task.run()
            workflow.do_engine_steps()
            assert not workflow.get_events()
    return snapshots.dump(workflow)
