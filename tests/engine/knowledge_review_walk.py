"""The walker for knowledge_review.bpmn's path tests: constants, form data from forms/*.json, the loaders
(the process as shipped, or a variant of its text), ``Walk`` (walk.ProcessWalk for this process), and the
review loop's in-memory driver.

test_knowledge_review_paths.py holds the submissions and the review loop, test_knowledge_review_schedule.py
the yearly evaluation.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine import Engine
from engine import snapshot as snapshots
from tests.engine.walk import NS, PROCESSES_DIR, ProcessWalk, form, load_process, replies  # noqa: F401 (form)

BPMN_TEXT = (PROCESSES_DIR / "knowledge_review.bpmn").read_text(encoding="utf-8")
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


def load(text: str = BPMN_TEXT):
    """The process (or a variant of its text), loaded and linted like the platform loads it."""
    return load_process("knowledge_review", text)


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


class Walk(ProcessWalk):
    """ProcessWalk for knowledge_review.bpmn: by hand, by knowledge_submitted, or a scheduled evaluation."""

    PROCESS_ID = "knowledge_review"
    TASKS = TASKS
    LANES = LANES
    ACTORS = ACTORS
    BASE = BASE
    ENDS = ENDS
    BUSINESS_KEY = KEY
    NOW = NOW
    START_FORM = "knowledge_review_submit.json"
    START_ROLE = "requester"
    START_TASK = "submit_knowledge"
    START_MESSAGE = MESSAGE
    MESSAGE_START = "start_message"
    ENDED_EMPTY = ()

    def by_hand(self, **overrides: Any) -> Walk:
        """Someone submits on the start form: the start task completes in the same command."""
        return self.start(**overrides)

    def by_message(self, payload: dict[str, Any]) -> Walk:
        """As app/services/deliveries.py starts it: start for the message, then deliver the message."""
        return self.start_by_message(payload)

    def scheduled(self) -> Walk:  # type: ignore[override]
        """As app/services/schedules.py starts an occurrence: platform keys only, the start task left open."""
        return super().scheduled(occurrence=True, complete_start_task=False, scheduled=True)


form_data = Walk.form_data


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


#: Every message the instance threw: (name, correlation, payload).
sent = replies


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
