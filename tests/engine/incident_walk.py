"""The walker for incident.bpmn's path tests: constants, form data from forms/*.json, and ``Walk``.

``Walk`` drives one instance task by task through engine/ (no Flask), restoring every snapshot in a fresh
Engine and checking lanes, roles, forms and the end event; test_incident_paths.py holds the paths.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from engine import Engine, load_directory

ROOT = Path(__file__).resolve().parents[2]
PROCESSES_DIR = ROOT / "processes"
FORMS_DIR = ROOT / "forms"

LANES = {
    "requester": "事件请求者 (requester)",
    "service_desk": "服务台 (service_desk)",
    "support_l1": "一线支持 (support_l1)",
    "support_l2": "二线支持 (support_l2)",
    "support_l3": "三线支持 (support_l3)",
    "incident_manager": "事件管理组长 (incident_manager)",
}
#: element id -> (role, form): who does each user task of incident.bpmn, on which form.
TASKS = {
    "raise_incident": ("requester", "incident_raise.json"),
    "record_incident": ("service_desk", "incident_record.json"),
    "classify_incident": ("service_desk", "incident_classify.json"),
    "resolve_by_desk": ("service_desk", "incident_resolve_desk.json"),
    "investigate_l1": ("support_l1", "incident_investigate_l1.json"),
    "resolve_l1": ("support_l1", "incident_resolve_l1.json"),
    "investigate_l2": ("support_l2", "incident_investigate_l2.json"),
    "resolve_l2": ("support_l2", "incident_resolve_l2.json"),
    "investigate_l3": ("support_l3", "incident_investigate_l3.json"),
    "resolve_l3": ("support_l3", "incident_resolve_l3.json"),
    "review_unresolved": ("incident_manager", "incident_manager_review.json"),
    "confirm_resolution": ("requester", "incident_confirm.json"),
    "close_incident": ("service_desk", "incident_close.json"),
}
#: A user of each role, as the actor of its tasks.
ACTORS = {
    "requester": "alice",
    "service_desk": "desk",
    "support_l1": "l1",
    "support_l2": "l2",
    "support_l3": "vendor",
    "incident_manager": "im",
}
BUSINESS_KEY = "INC-2026-000123"
NOW = "2026-03-02T09:30:00+00:00"

#: Valid data for each form; a step overrides only what steers the path (None removes a key).
BASE: dict[str, dict[str, Any]] = {
    "incident_raise.json": {
        "title": "邮件系统无法登录",
        "symptoms": "登录时提示 500 错误",
        "occurred_at": "2026-03-02T08:15:00+08:00",
        "affected_cis": ["APP-MAIL-01"],
        "contact": "alice@example.org / 13800000000",
        "channel": "web",
    },
    "incident_record.json": {
        "title": "邮件系统无法登录",
        "reporter": "alice",
        "contact": "13800000000",
        "occurred_at": "2026-03-02T08:15:00+08:00",
        "affected_cis": ["APP-MAIL-01"],
        "symptoms": "登录时提示 500 错误",
        "error_codes": "HTTP 500",
        "impact": "medium",
        "impact_basis": "actual",
        "status": "in_progress",
        "within_remit": True,
    },
    "incident_classify.json": {
        "category": "application",
        "urgency": "medium",
        "kb_references": "KB-0012",
        "initial_support": "重启客户端无效",
        "desk_decision": "route",
    },
    "incident_manager_review.json": {
        "manager_assessment": "需要厂商远程协助",
        "open_problem": False,
        "manager_decision": "reinvestigate",
    },
    "incident_confirm.json": {"confirmation": "confirmed", "satisfaction": "satisfied"},
    "incident_close.json": {
        "closure_code": "resolved",
        "closure_notes": "已恢复",
        "propose_knowledge": False,
    },
}
RESOLVED = {
    "resolution": "修复认证服务配置并重启",
    "resolution_type": "permanent",
    "root_cause_known": True,
    "root_cause": "证书过期",
    "needs_change": False,
}
for _holder in ("desk", "l1", "l2", "l3"):
    BASE[f"incident_resolve_{_holder}.json"] = dict(RESOLVED)
for _tier in ("l1", "l2", "l3"):
    BASE[f"incident_investigate_{_tier}.json"] = {
        f"{_tier}_diagnosis": "认证服务返回 500",
        f"{_tier}_solution": "更新证书",
        f"{_tier}_outcome": "resolve",
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
    """What the platform would pass for a submitted form: base data, overrides, auto fields; validated."""
    data = {**BASE[name], **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    autos = {"actor": actor, "now": NOW, "business_key": BUSINESS_KEY}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


def escalate(tier: str, outcome: str = "escalate") -> dict[str, Any]:
    """Investigation data that hands the incident on (escalate, or unresolved at third line)."""
    return {f"{tier}_outcome": outcome, f"{tier}_solution": None, f"{tier}_escalation_reason": "超出本线能力"}


def load_incident():
    """The incident process, loaded and linted like the platform loads it."""
    forms = {p.name for p in FORMS_DIR.glob("*.json")}
    return load_directory(PROCESSES_DIR, forms=forms, lane_role=lane_role)["incident"]


@dataclass
class Walk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine."""

    package: Any
    engine: Engine = field(default_factory=Engine)
    result: Any = None
    done: list[str] = field(default_factory=list)

    def _took(self, result: Any) -> None:
        restored = Engine().state(self.package, result.snapshot)
        assert restored.status == result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in result.open_tasks
        ]
        assert restored.completed_elements == result.completed_elements
        self.result = result

    def start(self, **overrides: Any) -> Walk:
        """Start the instance: the requester's raise form completes the start task."""
        data = form_data("incident_raise.json", ACTORS["requester"], overrides)
        data.update(sys_business_key=BUSINESS_KEY, sys_started_by=ACTORS["requester"], sys_started_at=NOW)
        self._took(self.engine.start(self.package, data))
        self.done.append("raise_incident")
        assert "raise_incident" in self.result.completed_elements
        return self

    def open_task(self, element_id: str) -> Any:
        """Assert ``element_id`` is the only open task, in its role's lane, with its form; return it."""
        assert self.result.status == "running"
        assert [t.element_id for t in self.result.open_tasks] == [element_id], (
            f"after {self.done} expected {element_id} open"
        )
        task = self.result.open_tasks[0]
        role, form_name = TASKS[element_id]
        assert (task.role, task.lane, task.form) == (role, LANES[role], form_name)
        return task

    def do(self, element_id: str, **overrides: Any) -> Walk:
        """Complete the open task ``element_id`` with its form's data (plus overrides)."""
        task = self.open_task(element_id)
        data = form_data(task.form, ACTORS[task.role], overrides)
        self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))
        self.done.append(element_id)
        return self

    def ended(self, end_event: str) -> Walk:
        """Assert the instance completed at ``end_event`` and no task is left open."""
        assert self.result.status == "completed"
        assert self.result.open_tasks == []
        ends = [e for e in self.result.completed_elements if e in ("end_closed", "end_rejected")]
        assert ends == [end_event]
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", end_event) in facts and ("ended", "incident") in facts
        return self

    def passed(self, element_id: str) -> int:
        """How often ``element_id`` completed."""
        return self.result.completed_elements.count(element_id)


def to_l1(walk: Walk) -> Walk:
    """Raise, record within remit, classify and route to support."""
    return walk.start().do("record_incident").do("classify_incident")


def confirm_and_close(walk: Walk, **close: Any) -> Walk:
    """The requester confirms, the desk closes: the instance ends closed."""
    return walk.do("confirm_resolution").do("close_incident", **close).ended("end_closed")
