"""The walker for change.bpmn's path tests: constants, form data from forms/*.json, ``Walk``, ``InMemory``.

``Walk`` drives one instance command by command through engine/ (no Flask), restoring every snapshot in a
fresh Engine and checking lanes, roles and forms; ``InMemory`` repeats loop rounds between two snapshots for
the 500-round tests. The tests are test_change_paths.py, test_change_cab.py, test_change_messages.py and
test_change_loops.py.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from engine import Engine, load_directory
from engine import snapshot as snapshots
from engine.loader import specs_for
from engine.script_engine import SafeScriptEngine, utc_now
from engine.scripts import PlatformCall

ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = ROOT / "forms"

LANES = {
    "requester": "变更请求者 (requester)",
    "change_analyst": "变更分析员 (change_analyst)",
    "change_manager": "变更管理组长 (change_manager)",
    "cab": "变更咨询委员会 (cab)",
    "change_implementer": "变更实施人员 (change_implementer)",
    "config_operator": "配置管理操作员 (config_operator)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "submit_rfc": ("requester", "change_submit_rfc.json"),
    "assess_change": ("change_analyst", "change_assess.json"),
    "complete_rfc": ("requester", "change_complete_rfc.json"),
    "approve_change": ("change_manager", "change_manager_approve.json"),
    "convene_cab": ("change_manager", "change_convene_cab.json"),
    "cab_approve": ("cab", "change_cab_vote.json"),
    "rework_change": ("change_manager", "change_rework.json"),
    "schedule_tasks": ("change_manager", "change_schedule.json"),
    "implement_change": ("change_implementer", "change_implement.json"),
    "update_cmdb": ("config_operator", "change_update_cmdb.json"),
    "review_change": ("change_manager", "change_review.json"),
    "close_change": ("change_manager", "change_close.json"),
}
ACTORS = {
    "requester": "alice",
    "change_analyst": "ana",
    "change_manager": "mgr",
    "cab": "cab1",
    "change_implementer": "impl",
    "config_operator": "cfg",
}
CAB = ["cab1", "cab2", "cab3", "cab4", "cab5"]
KEY = "CHG-2026-000042"
INCIDENT = "INC-2026-000007"
NOW = "2026-03-02T09:30:00+00:00"
ENDS = ("end_closed", "end_rejected")

RFC = {
    "title": "升级邮件服务器操作系统",
    "description": "将邮件服务器从 OS 7 升级到 OS 8",
    "reason": "OS 7 停止维护",
    "affected_cis": ["SRV-MAIL-01"],
    "requested_start": "2026-03-10T22:00:00+08:00",
    "requested_end": "2026-03-11T02:00:00+08:00",
    "benefit": "获得安全补丁",
    "risk": "升级失败导致邮件中断",
}
#: Valid data for each form; a step overrides only what steers the path (None removes a key).
BASE: dict[str, dict[str, Any]] = {
    "change_submit_rfc.json": dict(RFC),
    "change_complete_rfc.json": {**RFC, "rfc_completion_note": "补充了实施窗口"},
    "change_assess.json": {
        "rfc_check": "accepted",
        "impact": "low",
        "urgency": "low",
        "risk_level": "low",
        "change_assessment": "影响单台服务器",
        "change_plan": "备份后升级",
        "backout_plan": "从快照恢复",
    },
    "change_manager_approve.json": {"manager_decision": "approve", "manager_opinion": "同意"},
    "change_convene_cab.json": {
        "cab_members": CAB,
        "cab_decision_rule": "majority",
        "cab_meeting_at": "2026-03-05T10:00:00+08:00",
        "cab_agenda": "审议邮件系统升级",
    },
    "change_cab_vote.json": {"cab_vote": "approve", "cab_vote_comment": "同意"},
    "change_rework.json": {
        "cab_rework": "resubmit",
        "change_assessment": "补充了容量评估",
        "change_plan": "分两批升级",
        "backout_plan": "从快照恢复",
        "rework_summary": "按CAB意见分批实施",
    },
    "change_schedule.json": {
        "implementation_plan": "周五夜间窗口升级",
        "implementation_tasks": "备份\n升级\n验证",
        "assigned_implementer": "impl",
        "window_start": "2026-03-13T22:00:00+08:00",
        "window_end": "2026-03-14T02:00:00+08:00",
    },
    "change_implement.json": {
        "implementation_result": "completed",
        "implemented_from": "2026-03-13T22:05:00+08:00",
        "implemented_to": "2026-03-14T01:10:00+08:00",
        "implementation_notes": "升级完成，服务正常",
        "backout_performed": False,
        "ci_changed": False,
        "needs_release": False,
    },
    "change_update_cmdb.json": {
        "cmdb_cis": ["SRV-MAIL-01"],
        "cmdb_before": "os_version: 7",
        "cmdb_after": "os_version: 8",
    },
    "change_review.json": {
        "review_result": "success",
        "review_body": "change_manager",
        "review_findings": "达到预期",
        "change_record_updated": True,
    },
    "change_close.json": {
        "handover_complete": True,
        "handover_documents": "运维手册更新版",
        "closure_notes": "已关闭",
    },
}


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


def form_data(name: str, actor: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """What the platform passes for a submitted form: base data, overrides, auto fields; validated."""
    data = {**copy.deepcopy(BASE[name]), **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    autos = {"actor": actor, "now": NOW, "business_key": KEY}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


def load_change():
    """The change process, loaded and linted like the platform loads it."""
    forms = {p.name for p in FORMS_DIR.glob("*.json")}
    return load_directory(ROOT / "processes", forms=forms, lane_role=lane_role)["change"]


def rejected(vote: str = "reject") -> dict[str, Any]:
    """A CAB vote other than approve (a rejection needs a comment)."""
    return {"cab_vote": vote, "cab_vote_comment": "风险过高"}


@dataclass
class Walk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine."""

    package: Any
    engine: Engine = field(default_factory=Engine)
    result: Any = None
    sent: list[Any] = field(default_factory=list)

    def _took(self, result: Any) -> Walk:
        restored = Engine().state(self.package, result.snapshot)
        assert restored.status == result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in result.open_tasks
        ]
        assert restored.completed_elements == result.completed_elements
        assert restored.subscriptions == result.subscriptions
        self.result = result
        self.sent.extend(result.messages)
        return self

    def start(self, **overrides: Any) -> Walk:
        """The requester submits the RFC on the start form (the start task)."""
        data = form_data("change_submit_rfc.json", ACTORS["requester"], overrides)
        data.update(sys_business_key=KEY, sys_started_by=ACTORS["requester"], sys_started_at=NOW)
        self._took(self.engine.start(self.package, data))
        assert "submit_rfc" in self.result.completed_elements
        return self

    def start_by_message(self, **overrides: Any) -> Walk:
        """Another process sends change_requested; the platform starts and delivers it as it does."""
        payload = {
            "source_key": INCIDENT,
            "source_process": "incident",
            **{k: RFC[k] for k in ("title", "description", "reason", "affected_cis")},
            **overrides,
        }
        data = dict(payload, sys_business_key=KEY, sys_started_by="system", sys_started_at=NOW)
        first = self.engine.start(self.package, data, message="change_requested")
        assert first.open_tasks == [] and [s.name for s in first.subscriptions] == ["change_requested"]
        self._took(self.engine.deliver_message(self.package, first.snapshot, "change_requested", payload))
        assert "submit_rfc" not in self.result.completed_elements
        return self

    def tasks(self, element_id: str) -> list[Any]:
        """The open tasks of ``element_id``, each checked for its lane, role and form."""
        found = [t for t in self.result.open_tasks if t.element_id == element_id]
        role, form_name = TASKS[element_id]
        for task in found:
            assert (task.role, task.lane, task.form) == (role, LANES[role], form_name)
        return found

    def open_task(self, element_id: str) -> Any:
        """Assert ``element_id`` is the only open task; return it."""
        assert self.result.status == "running"
        assert [t.element_id for t in self.result.open_tasks] == [element_id], (
            f"expected {element_id} open, got {[t.element_id for t in self.result.open_tasks]}"
        )
        return self.tasks(element_id)[0]

    def do(self, element_id: str, **overrides: Any) -> Walk:
        """Complete the open task ``element_id`` with its form's data (plus overrides)."""
        task = self.open_task(element_id)
        data = form_data(task.form, ACTORS[task.role], overrides)
        return self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))

    def vote(self, *votes: dict[str, Any] | str) -> Walk:
        """Every convened member votes, in the order of cab_members; each task is offered to its voter."""
        ballots = self.tasks("cab_approve")
        members = ballots[0].data["cab_members"] if ballots else []
        assert [t.data["voter"] for t in ballots] == members
        assert len(votes) == len(ballots)
        assert {t.element_id for t in self.result.open_tasks} == {"cab_approve"}
        for task, vote in zip(ballots, votes, strict=True):
            overrides = {"cab_vote": vote} if isinstance(vote, str) else vote
            data = form_data(task.form, task.data["voter"], overrides)
            self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))
        return self

    def deliver(self, name: str, **payload: Any) -> Walk:
        """Deliver a reply message to the waiting instance."""
        return self._took(self.engine.deliver_message(self.package, self.result.snapshot, name, payload))

    def message(self, name: str) -> Any:
        """The one message of that name the instance has sent so far."""
        found = [m for m in self.sent if m.name == name]
        assert len(found) == 1, f"{name}: {found}"
        return found[0]

    def ended(self, end_event: str) -> Walk:
        """Assert the instance completed at ``end_event`` and no task is left open."""
        assert self.result.status == "completed"
        assert self.result.open_tasks == [] and self.result.subscriptions == []
        assert [e for e in self.result.completed_elements if e in ENDS] == [end_event]
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", end_event) in facts and ("ended", "change") in facts
        return self

    def passed(self, element_id: str) -> int:
        """How often ``element_id`` completed."""
        return self.result.completed_elements.count(element_id)


def approved_minor(walk: Walk) -> Walk:
    """Submitted, assessed as a minor change, approved by the change manager."""
    return walk.start().do("assess_change").do("approve_change")


def implement_to_end(walk: Walk, **implement: Any) -> Walk:
    """Schedule, implement (no release, no CI change unless asked), review and close."""
    walk.do("schedule_tasks").do("implement_change", **implement)
    return walk


def review_and_close(walk: Walk, **review: Any) -> Walk:
    """Review and close: the instance ends closed."""
    return walk.do("review_change", **review).do("close_change").ended("end_closed")


def major(walk: Walk, members: list[str] | None = None, rule: str = "majority") -> Walk:
    """Submitted, assessed as a major change (high impact), the CAB convened."""
    walk.start().do("assess_change", impact="high")
    assert walk.result.data["change_class"] == "major"
    return walk.do("convene_cab", cab_members=members or CAB, cab_decision_rule=rule)


# ---------------------------------------------------------------- 500 repetitions (in memory)


class InProcessScripts:
    """Runs the process's scripts in this process, for the 500-round tests only.

    The sandbox starts a child interpreter per script (tens of ms); 500 CAB rounds would spend most of the
    test there. The scripts of change.bpmn only read and set task data. The rounds before and after the
    fast-forward still run through the Engine and its real sandbox.
    """

    def run(self, script: str, data: dict[str, Any], *, element_id: str) -> tuple[dict, list[PlatformCall]]:
        scope = copy.deepcopy(dict(data))
        builtins = {"len": len, "zip": zip, "str": str, "NameError": NameError}
        exec(compile(script, element_id, "exec"), {"__builtins__": builtins}, scope)  # noqa: S102
        return scope, []


@dataclass
class InMemory:
    """The instance of a snapshot, driven in memory; ``snapshot()`` writes it back for the Engine."""

    package: Any
    snapshot_text: str

    def __post_init__(self) -> None:
        self.workflow = snapshots.load(self.snapshot_text, self.package, specs_for(self.package))
        self.workflow.script_engine = SafeScriptEngine(InProcessScripts(), utc_now)

    def open(self) -> list[str]:
        return [t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def do(self, element_id: str, **overrides: Any) -> None:
        """Complete the one open task ``element_id`` (fails if it is not the one open task)."""
        [task] = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        assert task.task_spec.bpmn_id == element_id
        role, form_name = TASKS[element_id]
        actor = task.data.get("voter", ACTORS[role])
        task.data.update(form_data(form_name, actor, overrides))
        task.run()
        self.workflow.do_engine_steps()

    def deliver(self, name: str, **payload: Any) -> None:
        """Deliver a correlated reply to the one catch waiting for ``name``."""
        [task] = [
            t
            for t in self.workflow.get_tasks(state=TaskState.WAITING)
            if getattr(getattr(t.task_spec, "event_definition", None), "name", None) == name
        ]
        definition = task.task_spec.event_definition
        correlations = definition.calculate_correlations(
            self.workflow.script_engine, definition.correlation_properties, payload
        )
        self.workflow.send_event(BpmnEvent(definition, payload, correlations))
        self.workflow.do_engine_steps()

    def snapshot(self) -> str:
        return snapshots.dump(self.workflow)


def resume(walk: Walk, memory: InMemory) -> Walk:
    """Continue ``walk`` through the Engine from the in-memory instance's snapshot."""
    return walk._took(Engine().state(walk.package, memory.snapshot()))


ROUNDS = 500
