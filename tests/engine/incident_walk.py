"""The walker for incident.bpmn's path tests: constants, form data from forms/*.json, and ``Walk``.

``Walk`` drives one instance task by task through engine/ (no Flask), restoring every snapshot in a fresh
Engine and checking lanes, roles, forms and the end event; test_incident_paths.py, test_incident_links.py and
test_incident_loops.py hold the paths. problem.bpmn's tests use the same helpers, and
fast_forward.FastForward repeats loop passes in memory for the 500-pass tests of both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine import Engine
from tests.engine.walk import ProcessWalk, load_process

#: What the platform's SLA table gives the incident timers (app/services/sla.py); fixed here: no database.
SLA_LOOKUPS = {
    "sla_duration": lambda priority, category, kind: "PT1H",
    "sla_warning": lambda priority, category, kind: "PT45M",
}


def incident_engine(**kwargs: Any) -> Engine:
    """An Engine with the SLA lookups the incident's timers call."""
    return Engine(lookups=SLA_LOOKUPS, **kwargs)


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


def escalate(tier: str, outcome: str = "escalate") -> dict[str, Any]:
    """Investigation data that hands the incident on (escalate, or unresolved at third line)."""
    return {f"{tier}_outcome": outcome, f"{tier}_solution": None, f"{tier}_escalation_reason": "超出本线能力"}


def load_incident():
    """The incident process, loaded and linted like the platform loads it."""
    return load_process("incident")


@dataclass
class Walk(ProcessWalk):
    """ProcessWalk for incident.bpmn (its engine has the SLA lookups); problem_walk subclasses it."""

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
    NOW = NOW
    RESTORE_SUBSCRIPTIONS = True

    engine: Engine = field(default_factory=incident_engine)

    def start_by_message(self, name: str, payload: dict[str, Any]) -> Walk:  # type: ignore[override]
        """Start as the platform does on message ``name``: start(message=...), then deliver it."""
        return super().start_by_message(payload, name)


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
