"""The walker for incident.bpmn's path tests: constants, form data from forms/*.json, and ``Walk``.

``Walk`` drives one instance task by task through engine/ (no Flask), restoring every snapshot in a fresh
Engine and checking lanes, roles, forms and the end event; test_incident_paths.py, test_incident_links.py and
test_incident_loops.py hold the paths. problem.bpmn's tests use the same helpers, and
fast_forward.FastForward repeats loop passes in memory for the 500-pass tests of both.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from engine import Engine, load_package

ROOT = Path(__file__).resolve().parents[2]
#: What the platform's SLA table gives the incident timers (app/services/sla.py); fixed here: no database.
SLA_LOOKUPS = {
    "sla_duration": lambda priority, category, kind: "PT1H",
    "sla_warning": lambda priority, category, kind: "PT45M",
}


def incident_engine(**kwargs: Any) -> Engine:
    """An Engine with the SLA lookups the incident's timers call."""
    return Engine(lookups=SLA_LOOKUPS, **kwargs)


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


def form_data(
    name: str,
    actor: str,
    overrides: dict[str, Any],
    base: dict[str, dict[str, Any]] | None = None,
    business_key: str = BUSINESS_KEY,
) -> dict[str, Any]:
    """What the platform would pass for a submitted form: base data, overrides, auto fields; validated."""
    data = {**(base or BASE)[name], **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    autos = {"actor": actor, "now": NOW, "business_key": business_key}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


def escalate(tier: str, outcome: str = "escalate") -> dict[str, Any]:
    """Investigation data that hands the incident on (escalate, or unresolved at third line)."""
    return {f"{tier}_outcome": outcome, f"{tier}_solution": None, f"{tier}_escalation_reason": "超出本线能力"}


def load_process(process_id: str):
    """A process of processes/ with the DMN files it uses, loaded and linted like the platform loads it.

    One file at a time (not load_directory), so another process being edited cannot break these tests.
    """
    forms = {p.name for p in FORMS_DIR.glob("*.json")}
    return load_package(PROCESSES_DIR / f"{process_id}.bpmn", PROCESSES_DIR, forms=forms, lane_role=lane_role)


def load_incident():
    """The incident process, loaded and linted like the platform loads it."""
    return load_process("incident")


@dataclass
class Walk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine.

    The class attributes describe the process; problem.bpmn's tests subclass it with their own.
    """

    PROCESS_ID = "incident"
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    START_FORM = "incident_raise.json"
    START_ROLE = "requester"
    START_TASK = "raise_incident"
    ENDS = ("end_closed", "end_rejected")
    BUSINESS_KEY = BUSINESS_KEY

    package: Any
    engine: Engine = field(default_factory=incident_engine)
    result: Any = None
    done: list[str] = field(default_factory=list)
    #: every message the instance threw so far, in order
    sent: list[Any] = field(default_factory=list)

    def _took(self, result: Any) -> None:
        restored = Engine().state(self.package, result.snapshot)
        assert restored.status == result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in result.open_tasks
        ]
        assert restored.completed_elements == result.completed_elements
        assert restored.subscriptions == result.subscriptions
        self.sent.extend(result.messages)
        self.result = result

    def sys_keys(self) -> dict[str, str]:
        """The platform-set keys of a new instance."""
        starter = "system" if self.START_ROLE is None else self.ACTORS[self.START_ROLE]
        return {"sys_business_key": self.BUSINESS_KEY, "sys_started_by": starter, "sys_started_at": NOW}

    def start(self, **overrides: Any) -> Walk:
        """Start the instance by hand: the starter's form completes the start task."""
        data = self.form_data(self.START_FORM, self.ACTORS[self.START_ROLE], overrides)
        data.update(self.sys_keys())
        self._took(self.engine.start(self.package, data))
        self.done.append(self.START_TASK)
        assert self.START_TASK in self.result.completed_elements
        return self

    def start_by_message(self, name: str, payload: dict[str, Any]) -> Walk:
        """Start the instance as the platform does on a message: start(message=...), then deliver it."""
        data = {**payload, **self.sys_keys(), "sys_started_by": "system"}
        first = self.engine.start(self.package, data, message=name)
        assert first.open_tasks == [] and [s.name for s in first.subscriptions] == [name]
        self._took(first)
        return self.deliver(name, payload)

    def form_data(self, name: str, actor: str, overrides: dict[str, Any]) -> dict[str, Any]:
        """Valid data for the form ``name``: this process's base data plus overrides and auto fields."""
        return form_data(name, actor, overrides, self.BASE, self.BUSINESS_KEY)

    def open_task(self, element_id: str) -> Any:
        """Assert ``element_id`` is the only open task, in its role's lane, with its form; return it."""
        assert self.result.status == "running"
        found = [t.element_id for t in self.result.open_tasks]
        assert found == [element_id], f"after {self.done} expected {element_id} open; found {found}"
        task = self.result.open_tasks[0]
        role, form_name = self.TASKS[element_id]
        assert (task.role, task.lane, task.form) == (role, self.LANES[role], form_name)
        return task

    def do(self, element_id: str, **overrides: Any) -> Walk:
        """Complete the open task ``element_id`` with its form's data (plus overrides)."""
        task = self.open_task(element_id)
        data = self.form_data(task.form, self.ACTORS[task.role], overrides)
        self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))
        self.done.append(element_id)
        return self

    def waits_for(self, element_id: str, name: str, correlation: dict[str, Any]) -> Walk:
        """Assert the instance waits at ``element_id`` for ``name`` with that correlation; no task is open."""
        assert self.result.status == "running" and self.result.open_tasks == []
        assert [(s.element_id, s.name, s.correlation) for s in self.result.subscriptions] == [
            (element_id, name, correlation)
        ]
        return self

    def deliver(self, name: str, payload: dict[str, Any]) -> Walk:
        """Deliver message ``name`` as the platform does after another instance threw it."""
        self._took(self.engine.deliver_message(self.package, self.result.snapshot, name, payload))
        self.done.append(f"<{name}>")
        return self

    def thrown(self, name: str) -> list[Any]:
        """The messages named ``name`` the instance threw so far."""
        return [m for m in self.sent if m.name == name]

    def ended(self, end_event: str) -> Walk:
        """Assert the instance completed at ``end_event`` and no task is left open."""
        assert self.result.status == "completed"
        assert self.result.open_tasks == [] and self.result.subscriptions == []
        ends = [e for e in self.result.completed_elements if e in self.ENDS]
        assert ends == [end_event]
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", end_event) in facts and ("ended", self.PROCESS_ID) in facts
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


# ---------------------------------------------------------------- shared by the incident tests

LINKS = {"request_change", "report_problem", "submit_knowledge", "request_problem"}
CHANGE = {"needs_change": True, "change_summary": "更换证书管理方式", "change_wait": True}
CHANGE_KEY = "CHG-2026-000007"


def passes(walk: Walk, loop: str) -> int:
    """How many passes a standard-loop subprocess made (history: the loop activity, then each pass)."""
    return walk.passed(loop) - 1


def change_completed(outcome: str, key: str = BUSINESS_KEY) -> dict:
    """The change process's reply (docs/contracts.md)."""
    return {"source_key": key, "change_key": CHANGE_KEY, "outcome": outcome}


def unresolved_at_l3(walk: Walk) -> Walk:
    """Escalated through every tier; third line cannot resolve it."""
    to_l1(walk).do("investigate_l1", **escalate("l1")).do("investigate_l2", **escalate("l2"))
    return walk.do("investigate_l3", **escalate("l3", "unresolved"))


def waiting_for_change(package, **resolution) -> Walk:
    """First line resolves with a change and waits for it: the RFC is out, the instance waits."""
    walk = to_l1(Walk(package)).do("investigate_l1").do("resolve_l1", **{**CHANGE, **resolution})
    [message] = walk.result.messages
    assert (message.name, message.correlation) == ("change_requested", {"source_key": BUSINESS_KEY})
    return walk.waits_for("wait_change", "change_completed", {"source_key": BUSINESS_KEY})
