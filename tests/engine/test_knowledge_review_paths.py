"""Every path of processes/knowledge_review.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores it
and must see the same instance. Form data comes from forms/knowledge_review_*.json and is validated against
their schemas. Covered: the three entries (start task by hand; message start knowledge_submitted as the
platform delivers it; the yearly timer start), both outcomes of every gateway (filtered, sent back, approved
or rejected, reply or not, maintenance or not), the knowledge_reviewed replies (name, payload, correlation),
the notices, separation-of-duties and assignee properties, and 500 send-backs of the review loop.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
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


@pytest.fixture(scope="module")
def package():
    """knowledge_review.bpmn as shipped, loaded once for the module."""
    return load()


@pytest.fixture(scope="module")
def scheduled():
    """The process as the scheduler runs it: without the by-hand start (see test_engine_start_cannot_...)."""
    return load(without(BPMN_TEXT, "start_manual"))


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
        self._took(self.engine.start(self.package, dict(SCHEDULED), complete_start_task=False))
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


# ---------------------------------------------------------------- the package


def test_package_entries_lanes_tasks_and_forms(package):
    """Three entries: the start task, the message start knowledge_submitted and the yearly schedule."""
    assert (package.process_id, package.name) == ("knowledge_review", "知识管理")
    assert package.start_task == "submit_knowledge"
    assert package.start_messages == (MESSAGE,)
    assert package.start_timer == SCHEDULE
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS


def test_duties_assignee_and_notices(package):
    """The reviewer is neither submitter nor reviser; the revision goes to the author, who is told."""
    props = package.element_properties
    assert props["review_knowledge"]["separateFrom"] == "starter,revise_knowledge"
    assert props["revise_knowledge"]["assignee"] == "author"
    for element in ("return_to_author", "end_published", "end_rejected"):
        assert props[element]["notifyTo"] == "requester,user:author"
    assert "{review_comment}" in props["return_to_author"]["notifyText"]
    assert "{article_id}" in props["end_published"]["notifyText"]


# ---------------------------------------------------------------- submissions by hand


def test_submitted_by_hand_is_published_without_a_reply(package):
    """Own experience: classified, filtered, approved, published; no other record to answer."""
    walk = Walk(package).by_hand()
    task = walk.open_task("classify_knowledge")
    assert task.data["title"] == "VPN 客户端无法连接的处理方法" and task.data["submitted_by"] == "alice"
    to_review(walk)
    assert walk.open_task("review_knowledge").data["kb_category"] == "network"
    walk.do("review_knowledge")
    assert walk.open_task("publish_knowledge").data["review_decision"] == "approve"
    walk.do("publish_knowledge").ended("end_published")
    assert walk.messages == [] and "reply_published" not in walk.result.completed_elements


def test_filtered_out_by_hand_ends_not_taken(package):
    """The filter finds it irrelevant: not taken, never reviewed, no reply."""
    walk = Walk(package).by_hand().do("classify_knowledge")
    walk.do("filter_knowledge", filter_result="irrelevant", filter_reason="与运维无关").ended("end_rejected")
    assert "review_knowledge" not in walk.result.completed_elements and walk.messages == []


def test_rejected_by_hand_with_an_incident_key_is_answered(package):
    """A user links the incident it came from: the rejection is answered to that incident."""
    source = {"source_process": "incident", "source_key": "INC-2026-000777"}
    walk = to_review(Walk(package).by_hand(**source))
    walk.do("review_knowledge", review_decision="reject", review_comment="方法不安全").ended("end_rejected")
    assert sent(walk) == [reply("rejected", source)]
    assert "publish_knowledge" not in walk.result.completed_elements


# ---------------------------------------------------------------- submissions by message


def test_submission_from_an_incident_is_published_and_answered(package):
    """knowledge_submitted starts it; publication answers knowledge_reviewed, correlated on source_key."""
    walk = Walk(package).by_message(FROM_INCIDENT)
    task = walk.open_task("classify_knowledge")
    assert {k: task.data[k] for k in FROM_INCIDENT} == FROM_INCIDENT
    to_review(walk).do("review_knowledge").do("publish_knowledge").ended("end_published")
    assert sent(walk) == [reply("published")]
    assert "reply_published" in walk.result.completed_elements


def test_submission_from_a_problem_filtered_as_duplicate_is_answered_rejected(package):
    """A duplicate is not taken; the problem hears it was rejected."""
    source = dict(FROM_INCIDENT, source_key="PRB-2026-000009", source_process="problem")
    walk = Walk(package).by_message(source).do("classify_knowledge")
    walk.do(
        "filter_knowledge",
        filter_result="duplicate",
        duplicate_of="KB-2026-000001",
        filter_reason="已有同类知识",
    ).ended("end_rejected")
    assert sent(walk) == [reply("rejected", source)]


def test_message_start_only_answers_its_own_message(package):
    """An instance started for the message waits for nothing else and runs no start task."""
    result = Engine().start(package, dict(FROM_INCIDENT, sys_business_key=KEY), message=MESSAGE)
    assert result.status == "running" and result.open_tasks == [] and result.timers == []
    assert [s.name for s in result.subscriptions] == [MESSAGE]


# ---------------------------------------------------------------- the review loop


def test_sent_back_twice_then_published(package):
    """The reviewer sends it back twice; each time the author is told and revises; then it is published."""
    walk = to_review(Walk(package).by_message(FROM_INCIDENT))
    for round_ in (1, 2):
        walk.do("review_knowledge", **SENT_BACK)
        assert walk.passed("return_to_author") == round_
        task = walk.open_task("revise_knowledge")
        assert task.data["review_comment"] == "请补充操作步骤" and task.data["author"] == "alice"
        walk.do("revise_knowledge", title=f"证书过期的处理（第 {round_} 次修订）")
        task = walk.open_task("review_knowledge")
        assert task.data["revision_note"] == "补充了操作步骤"
        assert task.data["title"] == f"证书过期的处理（第 {round_} 次修订）"
    walk.do("review_knowledge").do("publish_knowledge").ended("end_published")
    assert walk.passed("review_knowledge") == 3 and walk.passed("revise_knowledge") == 2
    assert walk.result.data["title"] == "证书过期的处理（第 2 次修订）"
    assert sent(walk) == [reply("published")]


def test_sent_back_then_rejected(package):
    """After a revision the reviewer rejects it: not taken."""
    walk = to_review(Walk(package).by_hand()).do("review_knowledge", **SENT_BACK).do("revise_knowledge")
    walk.do("review_knowledge", review_decision="reject", review_comment="仍不完整").ended("end_rejected")
    assert walk.passed("revise_knowledge") == 1 and walk.messages == []


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


@pytest.mark.slow
def test_review_loop_survives_500_send_backs(package):
    """Sent back 500 times, then approved: the loop neither stalls nor loses the latest revision."""
    review = form_data("knowledge_review_review.json", "km", SENT_BACK)

    def steps(index: int):
        revision = form_data("knowledge_review_revise.json", "alice", {"title": f"第 {index + 2} 版"})
        return [("review_knowledge", review), ("revise_knowledge", revision)]

    walk = to_review(Walk(package).by_message(FROM_INCIDENT))
    walk.do("review_knowledge", **SENT_BACK).do("revise_knowledge", title="第 1 版")  # pass 1: public API
    walk._took(Engine().state(package, run_in_memory(package, walk.result.snapshot, 499, steps)))
    assert walk.open_task("review_knowledge").data["title"] == "第 500 版"
    walk.do("review_knowledge").do("publish_knowledge").ended("end_published")
    assert walk.passed("review_knowledge") == 501 and walk.passed("revise_knowledge") == 500
    assert sent(walk) == [reply("published")]


# ---------------------------------------------------------------- periodic evaluation


def test_engine_start_cannot_yet_choose_the_timer_start(package):
    """What a scheduled start gets today (app/services/schedules.py: Engine.start without ``message``, start
    task left open): the none and the timer start both run, SpiffWorkflow's start join keeps the first in
    document order (the by-hand start), so the instance waits on 知识提交 instead of evaluating the knowledge
    base. The engine needs a way to choose the timer start (docs/processes/knowledge_review.md).
    """
    result = Engine().start(package, dict(SCHEDULED), complete_start_task=False)
    assert [t.element_id for t in result.open_tasks] == ["submit_knowledge"]
    assert "evaluate_knowledge" not in result.completed_elements + result.active_elements


def test_scheduled_evaluation_keeps_everything(scheduled):
    """The yearly evaluation finds nothing to maintain."""
    assert scheduled.start_timer == SCHEDULE and scheduled.start_task is None
    walk = Walk(scheduled).scheduled()
    assert walk.open_task("evaluate_knowledge").data["sys_business_key"] == KEY
    walk.do("evaluate_knowledge").ended("end_evaluated")
    assert "maintain_knowledge" not in walk.result.completed_elements and walk.messages == []


def test_scheduled_evaluation_maintains_articles(scheduled):
    """The evaluation lists articles to update or retire; the operator maintains them."""
    walk = Walk(scheduled).scheduled()
    walk.do("evaluate_knowledge", evaluation_result="maintain", articles_to_maintain="KB-2026-000003 更新")
    assert walk.open_task("maintain_knowledge").data["articles_to_maintain"] == "KB-2026-000003 更新"
    walk.do("maintain_knowledge").ended("end_maintained")


def test_timer_start_is_written_unquoted():
    """The schedule is the ISO 8601 repeating interval as bpmn.io writes it (no quotes)."""
    root = etree.fromstring(BPMN_TEXT.encode("utf-8"))
    cycles = root.xpath("//bpmn:startEvent/bpmn:timerEventDefinition/bpmn:timeCycle/text()", namespaces=NS)
    assert [c.strip() for c in cycles] == [SCHEDULE]
    starts = [s.get("id") for s in root.xpath("//bpmn:process/bpmn:startEvent", namespaces=NS)]
    assert starts[0] == "start_manual"  # first in document order: the by-hand start wins today


# ---------------------------------------------------------------- expressions read the forms


def test_conditions_and_payloads_read_only_form_fields():
    """Every name a condition, loop condition or payload reads is a form field or a sys_ key; the
    knowledge_submitted payload keys are fields of the start form, so both entries carry the same keys."""
    known = {"True", "False", "None", "sys_business_key", "sys_started_by", "sys_started_at"}
    for _, name in TASKS.values():
        known |= set(form(name)["schema"]["properties"])
    assert set(FROM_INCIDENT) <= set(form("knowledge_review_submit.json")["schema"]["properties"])
    root = etree.fromstring(BPMN_TEXT.encode("utf-8"))
    texts = root.xpath(
        "//bpmn:conditionExpression/text() | //bpmn:loopCondition/text()"
        " | //spiffworkflow:messagePayload/text()",
        namespaces=NS,
    )
    assert len(texts) == 9
    for text in texts:
        names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r'"[^"]*"', "", str(text))))
        assert names - {"and", "or", "not", "in"} <= known, f"`{text}` reads {sorted(names - known)}"
