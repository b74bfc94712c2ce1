"""The walker for change.bpmn's path tests: constants, form data from forms/*.json, ``Walk``, ``InMemory``.

``Walk`` drives one instance command by command through engine/ (no Flask), restoring every snapshot in a
fresh Engine and checking lanes, roles and forms; ``InMemory`` repeats loop rounds between two snapshots for
the 500-round tests. The tests are test_change_paths.py, test_change_cab.py, test_change_messages.py and
test_change_loops.py.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from engine import Engine, load_directory
from engine import snapshot as snapshots
from engine.loader import specs_for
from engine.script_engine import SafeScriptEngine, utc_now
from engine.scripts import PlatformCall
from tests.engine.walk import FORMS_DIR, PROCESSES_DIR, ProcessWalk, lane_role

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


def load_change():
    """The change process, loaded and linted like the platform loads it."""
    forms = {p.name for p in FORMS_DIR.glob("*.json")}
    return load_directory(PROCESSES_DIR, forms=forms, lane_role=lane_role)["change"]


def rejected(vote: str = "reject") -> dict[str, Any]:
    """A CAB vote other than approve (a rejection needs a comment)."""
    return {"cab_vote": vote, "cab_vote_comment": "风险过高"}


class Walk(ProcessWalk):
    """ProcessWalk for change.bpmn: the start by change_requested, the CAB's votes."""

    PROCESS_ID = "change"
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    ENDS = ENDS
    BUSINESS_KEY = KEY
    NOW = NOW
    START_FORM = "change_submit_rfc.json"
    START_ROLE = "requester"
    START_TASK = "submit_rfc"
    START_MESSAGE = "change_requested"
    RESTORE_SUBSCRIPTIONS = True

    def start_by_message(self, **overrides: Any) -> Walk:  # type: ignore[override]
        """Another process sends change_requested; the platform starts and delivers it as it does."""
        payload = {
            "source_key": INCIDENT,
            "source_process": "incident",
            **{k: RFC[k] for k in ("title", "description", "reason", "affected_cis")},
            **overrides,
        }
        return super().start_by_message(payload)

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


form_data = Walk.form_data


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
