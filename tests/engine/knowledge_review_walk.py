"""The walker for knowledge_review.bpmn's path tests: constants, form data from forms/*.json, the loaders
(the process as shipped, or a variant of its text), ``Walk``, and the review loop's in-memory driver.

test_knowledge_review_paths.py holds the submissions and the review loop, test_knowledge_review_schedule.py
the yearly evaluation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine import Engine, load_package
from engine import snapshot as snapshots

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS_DIR = ROOT / "forms"
BPMN_TEXT = (PROCESSES / "knowledge_review.bpmn").read_text(encoding="utf-8")
KEY = "KNW-2026-000007"
NOW = "2026-11-21T02:00:00+00:00"
SCHEDULE = "R/2027-01-10T09:00:00+08:00/P1Y"
MESSAGE = "knowledge_submitted"
#: The start data of a scheduled occurrence (app/services/schedules.py).
SCHEDULED = {
    "sys_business_key": KEY,
    "sys_started_by": "system",
    "sys_started_at": NOW,
    "sys_occurrence_at": NOW,
}
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
LANES = {
    "requester": "知识提交者 (requester)",
    "knowledge_manager": "知识管理组长 (knowledge_manager)",
    "knowledge_operator": "知识管理操作员 (knowledge_operator)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "submit_knowledge": ("requester", "knowledge_review_submit.json"),
    "classify_knowledge": ("knowledge_operator", "knowledge_review_classify.json"),
    "filter_knowledge": ("knowledge_operator", "knowledge_review_filter.json"),
    "review_knowledge": ("knowledge_manager", "knowledge_review_review.json"),
    "revise_knowledge": ("requester", "knowledge_review_revise.json"),
    "publish_knowledge": ("knowledge_manager", "knowledge_review_publish.json"),
    "evaluate_knowledge": ("knowledge_manager", "knowledge_review_evaluate.json"),
    "maintain_knowledge": ("knowledge_operator", "knowledge_review_maintain.json"),
}
ACTORS = {"requester": "alice", "knowledge_manager": "km", "knowledge_operator": "ko"}
ENDS = ("end_published", "end_rejected", "end_evaluated", "end_maintained")
#: The payload incident.bpmn sends (docs/contracts.md, message catalogue).
FROM_INCIDENT = {
    "title": "邮件系统无法登录：证书过期",
    "body": "现象：登录提示 500；原因：证书过期；解决：更新证书并重启认证服务。",
    "category": "application",
    "source_key": "INC-2026-000123",
    "source_process": "incident",
}
SENT_BACK = {"review_decision": "revise", "review_comment": "请补充操作步骤"}
#: Valid data for each form; a step overrides only what steers the path.
BASE: dict[str, dict[str, Any]] = {
    "knowledge_review_submit.json": {
        "title": "VPN 客户端无法连接的处理方法",
        "category": "network",
        "body": "检查证书有效期，重新导入客户端配置。",
        "keywords": "VPN 证书",
        "source_process": "experience",
    },
    "knowledge_review_classify.json": {
        "article_id": "KB-2026-000042",
        "kb_category": "network",
        "knowledge_type": "solution",
        "author": "alice",
    },
    "knowledge_review_filter.json": {"filter_result": "pass"},
    "knowledge_review_review.json": {"review_decision": "approve"},
    "knowledge_review_revise.json": {
        "title": "VPN 客户端无法连接的处理方法（修订）",
        "body": "1. 检查证书有效期；2. 重新导入配置；3. 重启客户端。",
        "revision_note": "补充了操作步骤",
    },
    "knowledge_review_publish.json": {"share_scope": "everyone", "next_review_on": "2027-11-21"},
    "knowledge_review_evaluate.json": {
        "evaluation_period_start": "2026-01-01",
        "evaluation_period_end": "2026-12-31",
        "usage_analysis": "120 条知识，30 条一年内无人查看",
        "feedback_summary": "网络类知识反馈较好",
        "evaluation_result": "keep_all",
    },
    "knowledge_review_maintain.json": {
        "articles_updated": "KB-2026-000003",
        "articles_retired": "KB-2025-000100",
        "maintenance_summary": "更新 1 条，退役 1 条",
    },
}


def lane_role(name: str) -> str | None:
    """The role id in brackets at the end of a lane name, or a bare role id."""
    match = re.search(r"\(([a-z][a-z0-9_]*)\)\s*$", name)
    return match.group(1) if match else (name if re.fullmatch(r"[a-z][a-z0-9_]*", name) else None)


FORM_NAMES = {p.name for p in FORMS_DIR.glob("*.json")}


@cache
def form(name: str) -> dict[str, Any]:
    """A form file of forms/."""
    return json.loads((FORMS_DIR / name).read_text(encoding="utf-8"))


def form_data(name: str, actor: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """What the platform passes for a submitted form: base data, overrides, auto fields; validated."""
    data = {k: v for k, v in {**BASE[name], **overrides}.items() if v is not None}
    autos = {"actor": actor, "now": NOW, "business_key": KEY}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


def load(text: str = BPMN_TEXT):
    """The process (or a variant of its text), loaded and linted like the platform loads it."""
    return load_package(
        text, PROCESSES, forms=FORM_NAMES, lane_role=lane_role, filename="knowledge_review.bpmn"
    )


def without(text: str, *ids: str) -> str:
    """The BPMN text without the elements ``ids``, their flows, lane references and diagram shapes."""
    root = etree.fromstring(text.encode("utf-8"))
    gone = set(ids)
    for flow in root.iter(f"{{{NS['bpmn']}}}sequenceFlow"):
        if flow.get("sourceRef") in gone or flow.get("targetRef") in gone:
            gone.add(flow.get("id"))
    refs = {f"{{{NS['bpmn']}}}{tag}" for tag in ("flowNodeRef", "incoming", "outgoing")}
    doomed = [
        el
        for el in root.iter()
        if el.get("id") in gone
        or el.get("bpmnElement") in gone
        or (el.tag in refs and el.text.strip() in gone)
    ]
    for el in doomed:
        el.getparent().remove(el)
    return etree.tostring(root, encoding="unicode")


@dataclass
class Walk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine."""

    package: Any
    engine: Engine = field(default_factory=Engine)
    result: Any = None
    messages: list = field(default_factory=list)

    def _took(self, result: Any) -> None:
        restored = Engine().state(self.package, result.snapshot)
        assert restored.status == result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in result.open_tasks
        ]
        assert restored.completed_elements == result.completed_elements
        self.messages.extend(result.messages)
        self.result = result

    def by_hand(self, **overrides: Any) -> Walk:
        """Someone submits on the start form: the start task completes in the same command."""
        data = form_data("knowledge_review_submit.json", ACTORS["requester"], overrides)
        data.update(sys_business_key=KEY, sys_started_by=ACTORS["requester"], sys_started_at=NOW)
        self._took(self.engine.start(self.package, data))
        assert "submit_knowledge" in self.result.completed_elements
        return self

    def by_message(self, payload: dict[str, Any]) -> Walk:
        """As app/services/deliveries.py starts it: start for the message, then deliver the message."""
        data = dict(payload, sys_business_key=KEY, sys_started_by="system", sys_started_at=NOW)
        self._took(self.engine.start(self.package, data, message=MESSAGE))
        assert self.result.open_tasks == []
        assert [(s.element_id, s.name) for s in self.result.subscriptions] == [("start_message", MESSAGE)]
        self._took(self.engine.deliver_message(self.package, self.result.snapshot, MESSAGE, payload))
        assert "start_message" in self.result.completed_elements
        assert "submit_knowledge" not in self.result.completed_elements
        return self

    def scheduled(self) -> Walk:
        """As app/services/schedules.py starts an occurrence: platform keys only, the start task left open."""
        self._took(
            self.engine.start(self.package, dict(SCHEDULED), complete_start_task=False, scheduled=True)
        )
        return self

    def open_task(self, element_id: str) -> Any:
        """Assert ``element_id`` is the only open task, in its role's lane, with its form; return it."""
        assert self.result.status == "running"
        assert [t.element_id for t in self.result.open_tasks] == [element_id]
        task = self.result.open_tasks[0]
        role, form_name = TASKS[element_id]
        assert (task.role, task.lane, task.form) == (role, LANES[role], form_name)
        return task

    def do(self, element_id: str, **overrides: Any) -> Walk:
        """Complete the open task ``element_id`` with its form's data (plus overrides)."""
        task = self.open_task(element_id)
        data = form_data(task.form, ACTORS[task.role], overrides)
        self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))
        return self

    def ended(self, end_event: str) -> Walk:
        """Assert the instance completed at ``end_event``."""
        assert self.result.status == "completed" and self.result.open_tasks == []
        assert [e for e in self.result.completed_elements if e in ENDS] == [end_event]
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", end_event) in facts and ("ended", "knowledge_review") in facts
        return self

    def passed(self, element_id: str) -> int:
        """How often ``element_id`` completed."""
        return self.result.completed_elements.count(element_id)


def to_review(walk: Walk) -> Walk:
    """Classified and through the filter: the review is open."""
    return walk.do("classify_knowledge").do("filter_knowledge")


def reply(outcome: str, source: dict[str, Any] = FROM_INCIDENT) -> tuple:
    """The knowledge_reviewed message expected back at the submitting record."""
    payload = {
        "article_id": "KB-2026-000042",
        "outcome": outcome,
        "source_key": source["source_key"],
        "source_process": source["source_process"],
    }
    return ("knowledge_reviewed", {"source_key": source["source_key"]}, payload)


def sent(walk: Walk) -> list[tuple]:
    """Every message the instance threw: (name, correlation, payload)."""
    return [(m.name, m.correlation, m.payload) for m in walk.messages]


# ---------------------------------------------------------------- the review loop, in memory


def run_in_memory(package: Any, snapshot: str, rounds: int, steps) -> str:
    """Drive ``rounds`` passes of the review loop inside one restored workflow; return the snapshot.

    Through the public API every command restores and stores the whole snapshot, and a standard loop keeps
    each pass's subprocess in it, so 500 passes cost O(n^2) (~100 s on the 2-core box). Here the engine's own
    restore runs once and each step is SpiffWorkflow's ``task.run`` + ``do_engine_steps`` (what
    ``Engine.complete_task`` does; the loop body has no plain tasks for the engine's pass-through), looking
    for the open task in the current pass only. One snapshot at the end goes back to the public API.
    """
    workflow, _, _ = Engine()._restore(package, snapshot)
    for index in range(rounds):
        for element_id, data in steps(index):
            current = next(reversed(workflow.subprocesses.values()))
            [task] = current.get_tasks(state=TaskState.READY, manual=True)
            assert task.task_spec.bpmn_id == element_id, (index, task.task_spec.bpmn_id)
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
    assert workflow.get_events() == []
    return snapshots.dump(workflow)
