"""Every path of processes/change_emergency.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance. At every step the test checks which task is open, in which lane
and role, with which form; at the end, which end event was reached and which messages left the instance (name,
payload, correlation). Form data is built from forms/*.json and validated against their schemas.

The two ways in: the start task 紧急变更申请 (a change analyst, by hand) and the message
emergency_change_requested (the platform starts the instance with the payload as data and delivers the
message, as app/services/deliveries.py does). Replies (emergency_change_completed) go out only for the second.
"""

from __future__ import annotations

import copy
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

from engine import Engine, MessageNotAccepted, load_package
from engine import snapshot as snapshots
from tests.engine.conformance import lane_role

ROOT = Path(__file__).resolve().parents[2]
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
PROCESS = "change_emergency"
START_MESSAGE = "emergency_change_requested"
REPLY = "emergency_change_completed"

LANES = {
    "change_analyst": "变更分析员 (change_analyst)",
    "ecab": "紧急变更咨询委员会 (ecab)",
    "change_manager": "变更管理组长 (change_manager)",
    "change_implementer": "变更实施人员 (change_implementer)",
    "cab": "变更咨询委员会 (cab)",
}
#: element id -> (role, form) of every user task.
TASKS = {
    "request_emergency_change": ("change_analyst", "change_emergency_request.json"),
    "authorise_emergency_change": ("ecab", "change_emergency_authorise.json"),
    "plan_emergency_change": ("change_manager", "change_emergency_plan.json"),
    "build_emergency_change": ("change_implementer", "change_emergency_build.json"),
    "test_emergency_change": ("change_implementer", "change_emergency_test.json"),
    "back_out_emergency_change": ("change_implementer", "change_emergency_back_out.json"),
    "implement_emergency_change": ("change_implementer", "change_emergency_implement.json"),
    "review_emergency_change": ("cab", "change_emergency_review.json"),
    "close_emergency_change": ("change_manager", "change_emergency_close.json"),
}
ACTORS = {
    "change_analyst": "ana",
    "ecab": "ecab_li",
    "change_manager": "cm_wang",
    "change_implementer": "impl_zhao",
    "cab": "cab_chen",
}
ENDS = ("end_rejected", "end_implemented")
BUSINESS_KEY = "ECH-2026-000007"
CHANGE_KEY = "CHG-2026-000031"
NOW = "2026-03-02T09:30:00+00:00"
#: What change assessment sends (processes/change.bpmn, request_emergency_change).
FROM_CHANGE = {
    "source_key": CHANGE_KEY,
    "source_process": "change",
    "title": "核心数据库主库切换",
    "description": "主库磁盘故障，切换到备库并重建复制",
    "affected_cis": ["DB-CORE-01"],
}

#: Valid data for each form; a step overrides only what steers the path (None removes a key).
BASE: dict[str, dict[str, Any]] = {
    "change_emergency_request.json": {
        "title": "防火墙策略紧急调整",
        "description": "封禁正在攻击门户网站的源地址段",
        "ec_reason": "门户网站遭受攻击，服务已中断",
        "affected_cis": ["FW-EDGE-01"],
        "ec_origin": "incident",
        "ec_related_record": "INC-2026-000123",
        "ec_needed_by": "2026-03-02T10:30:00+00:00",
    },
    "change_emergency_authorise.json": {
        "ecab_decision": "approve",
        "ecab_comments": "同意立即实施",
        "ecab_participants": "ecab_li, ecab_sun（电话）",
        "ecab_impact": "high",
        "ecab_urgency": "high",
        "ecab_risk": "medium",
        "ecab_change_type": "security",
        "ecab_resources": "网络工程师 2 名，维护窗口 09:45-10:30",
    },
    "change_emergency_plan.json": {
        "ecp_implementation_plan": "1. 备份策略 2. 下发封禁规则 3. 观察流量",
        "ecp_test_plan": "在备用防火墙上验证规则",
        "ecp_back_out_plan": "恢复备份的策略",
        "ecp_remediation_plan": "切换到备用防火墙",
        "ecp_planned_start": "2026-03-02T09:45:00+00:00",
        "ecp_planned_end": "2026-03-02T10:30:00+00:00",
        "ec_implementer": "impl_zhao",
    },
    "change_emergency_build.json": {"ecb_build_notes": "规则已编写", "ec_test_decision": "test"},
    "change_emergency_test.json": {"ec_test_result": "passed", "ect_findings": "规则生效，业务正常"},
    "change_emergency_back_out.json": {"ecbo_state": "restored", "ecbo_notes": "已恢复原策略"},
    "change_emergency_implement.json": {
        "eci_result": "success",
        "eci_notes": "规则已在生产防火墙生效",
        "eci_started_at": "2026-03-02T09:50:00+00:00",
        "eci_finished_at": "2026-03-02T10:05:00+00:00",
        "eci_cis_changed": False,
    },
    "change_emergency_review.json": {
        "ecr_result": "successful",
        "ecr_root_cause": "门户网站遭受攻击",
        "ecr_purpose": "阻断攻击，恢复服务",
        "ecr_recommendations": "部署 WAF",
        "ecr_follow_up_change": True,
    },
    "change_emergency_close.json": {
        "ecc_summary": "紧急变更成功，攻击已阻断",
        "ecc_documents_filed": True,
        "ecc_record_updated": True,
    },
}
#: The smallest valid data of the forms a rebuild pass uses (keeps the 500-pass test quick).
SHORT = {
    "change_emergency_build.json": {"ecb_build_notes": "b", "ec_test_decision": "test"},
    "change_emergency_test.json": {"ec_test_result": "failed", "ect_findings": "f"},
    "change_emergency_back_out.json": {"ecbo_state": "restored", "ecbo_notes": "r"},
}


@cache
def form(name: str) -> dict[str, Any]:
    """A form file of forms/."""
    return json.loads((ROOT / "forms" / name).read_text(encoding="utf-8"))


def form_data(
    name: str, actor: str, overrides: dict[str, Any], base: dict[str, dict[str, Any]] = BASE
) -> dict:
    """What the platform passes for a submitted form: base data, overrides, auto fields; validated."""
    data = {k: v for k, v in {**base[name], **overrides}.items() if v is not None}
    autos = {"actor": actor, "now": NOW, "business_key": BUSINESS_KEY}
    for fld in form(name)["fields"]:
        if "auto" in fld:
            data[fld["name"]] = autos[fld["auto"]]
    errors = sorted(e.message for e in Draft202012Validator(form(name)["schema"]).iter_errors(data))
    assert not errors, f"test data for {name} is invalid: {errors}"
    return data


@pytest.fixture(scope="module")
def package():
    """The process, loaded and linted as the platform loads it (its own file, DMNs from processes/)."""
    forms = {p.name for p in (ROOT / "forms").glob("*.json")}
    return load_package(
        ROOT / "processes" / f"{PROCESS}.bpmn", ROOT / "processes", forms=forms, lane_role=lane_role
    )


@dataclass
class Walk:
    """One instance driven command by command, restoring every returned snapshot on a fresh Engine."""

    package: Any
    engine: Engine = field(default_factory=Engine)
    result: Any = None
    done: list[str] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)

    def _took(self, result: Any) -> None:
        self.result = result
        self.messages.extend(result.messages)
        self.check_snapshot()

    def check_snapshot(self) -> None:
        """A fresh Engine restoring the last snapshot sees the same instance."""
        restored = Engine().state(self.package, self.result.snapshot)
        assert restored.status == self.result.status
        assert [(t.task_id, t.element_id) for t in restored.open_tasks] == [
            (t.task_id, t.element_id) for t in self.result.open_tasks
        ]
        assert restored.completed_elements == self.result.completed_elements

    def start(self, **overrides: Any) -> Walk:
        """A change analyst raises the request by hand: the start form completes the start task."""
        data = form_data("change_emergency_request.json", ACTORS["change_analyst"], overrides)
        data.update(
            sys_business_key=BUSINESS_KEY, sys_started_by=ACTORS["change_analyst"], sys_started_at=NOW
        )
        self._took(self.engine.start(self.package, data))
        self.done.append("request_emergency_change")
        assert "request_emergency_change" in self.result.completed_elements
        return self

    def start_by_message(self, payload: dict[str, Any]) -> Walk:
        """Another process asks: the platform starts on the message (payload as data), then delivers it."""
        data = dict(payload, sys_business_key=BUSINESS_KEY, sys_started_by="system", sys_started_at=NOW)
        first = self.engine.start(self.package, data, message=START_MESSAGE)
        assert first.open_tasks == []
        assert [(s.element_id, s.name) for s in first.subscriptions] == [("request_received", START_MESSAGE)]
        self._took(first)
        self._took(self.engine.deliver_message(self.package, first.snapshot, START_MESSAGE, payload))
        assert "request_received" in self.result.completed_elements
        assert "request_emergency_change" not in self.result.completed_elements
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

    def do(self, element_id: str, base: dict[str, dict[str, Any]] = BASE, **overrides: Any) -> Walk:
        """Complete the open task ``element_id`` with its form's data (plus overrides)."""
        task = self.open_task(element_id)
        data = form_data(task.form, ACTORS[task.role], overrides, base)
        self._took(self.engine.complete_task(self.package, self.result.snapshot, task.task_id, data))
        self.done.append(element_id)
        return self

    def ended(self, end_event: str) -> Walk:
        """Assert the instance completed at ``end_event`` and no task is left open."""
        assert self.result.status == "completed"
        assert self.result.open_tasks == [] and self.result.subscriptions == []
        assert [e for e in self.result.completed_elements if e in ENDS] == [end_event]
        facts = [(f.kind, f.element_id) for f in self.result.facts]
        assert ("event_reached", end_event) in facts and ("ended", PROCESS) in facts
        return self

    def passed(self, element_id: str) -> int:
        """How often ``element_id`` completed."""
        return self.result.completed_elements.count(element_id)


def replies(walk: Walk) -> list[tuple[str, dict, dict]]:
    """(name, correlation, payload) of every message the instance sent."""
    return [(m.name, m.correlation, m.payload) for m in walk.messages]


def reply(outcome: str) -> tuple[str, dict, dict]:
    """The emergency_change_completed message the change process waits for."""
    return (
        REPLY,
        {"source_key": CHANGE_KEY},
        {"source_key": CHANGE_KEY, "change_key": BUSINESS_KEY, "outcome": outcome},
    )


def build_and_pass(walk: Walk) -> Walk:
    """Build, test (time allows), the test passes."""
    return walk.do("build_emergency_change").do("test_emergency_change")


def review_and_close(walk: Walk) -> Walk:
    """Implement, CAB review, close: the instance ends implemented."""
    walk.do("implement_emergency_change").do("review_emergency_change").do("close_emergency_change")
    return walk.ended("end_implemented")


# ---------------------------------------------------------------- the package


def test_package_lanes_tasks_forms_and_start(package):
    """Start task and start message, every lane's role, each user task's role and form; no DMN needed."""
    assert (package.process_id, package.name) == (PROCESS, "紧急变更管理")
    assert package.start_task == "request_emergency_change"
    assert package.start_messages == (START_MESSAGE,)
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"change_emergency.bpmn"}


def test_separation_assignee_and_notices(package):
    """ECAB not the requester; CAB not an implementer; implementation tasks to the named implementer."""
    props = package.element_properties
    assert props["authorise_emergency_change"]["separateFrom"] == "starter"
    implementer_tasks = [
        "build_emergency_change",
        "test_emergency_change",
        "back_out_emergency_change",
        "implement_emergency_change",
    ]
    assert props["review_emergency_change"]["separateFrom"].split(",") == implementer_tasks
    for element in implementer_tasks:
        assert props[element]["assignee"] == "ec_implementer"
    for element in ("authorise_emergency_change", "back_out_emergency_change", "implement_emergency_change"):
        assert props[element]["notifyTo"] and props[element]["notifyText"]
    assert props["end_rejected"]["notifyTo"] == "requester"
    assert props["end_implemented"]["notifyTo"] == "requester"


def test_conditions_and_payloads_read_only_form_fields():
    """Every name a condition, loop condition or message payload reads is set by a form, the platform (sys_)
    or the script 登记来源 (source_key, source_process), so no path can fail on an unknown name."""
    known = {"True", "False", "None", "sys_business_key", "sys_started_by", "sys_started_at"}
    known |= {"source_key", "source_process"}
    for _role, name in TASKS.values():
        known |= set(form(name)["schema"]["properties"])
    root = etree.parse(str(ROOT / "processes" / f"{PROCESS}.bpmn")).getroot()
    texts = root.xpath(
        "//bpmn:conditionExpression/text() | //bpmn:loopCondition/text()"
        " | //spiffworkflow:messagePayload/text()",
        namespaces=NS,
    )
    assert len(texts) >= 6
    for text in texts:
        names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r'"[^"]*"', "", text)))
        assert names - {"and", "or", "not", "in", "is"} <= known, text


# ---------------------------------------------------------------- raised by hand (no replies)


def test_by_hand_approved_tested_implemented_reviewed_closed(package):
    """The happy path of a request raised by hand: no reply message goes anywhere."""
    walk = Walk(package).start()
    task = walk.open_task("authorise_emergency_change")
    assert task.data["ec_reason"] == "门户网站遭受攻击，服务已中断"
    assert (task.data["source_key"], task.data["source_process"]) == ("", "")
    walk.do("authorise_emergency_change")
    assert walk.open_task("plan_emergency_change").data["ecab_resources"].startswith("网络工程师")
    walk.do("plan_emergency_change")
    assert walk.open_task("build_emergency_change").data["ec_implementer"] == "impl_zhao"
    build_and_pass(walk)
    assert walk.open_task("implement_emergency_change").data["ec_test_result"] == "passed"
    review_and_close(walk)
    assert walk.messages == []
    for element in ("back_out_emergency_change", "reply_implemented", "reply_rejected"):
        assert element not in walk.result.completed_elements
    assert walk.result.data["ecc_summary"] == "紧急变更成功，攻击已阻断"


def test_by_hand_rejected_by_ecab(package):
    """The ECAB rejects a request raised by hand: it ends rejected, nothing is planned, no message."""
    walk = (
        Walk(package).start().do("authorise_emergency_change", ecab_decision="reject", ecab_comments="非紧急")
    )
    walk.ended("end_rejected")
    assert walk.messages == []
    assert "plan_emergency_change" not in walk.result.completed_elements
    assert "reply_rejected" not in walk.result.completed_elements


@pytest.mark.parametrize(
    "field", ["ecab_impact", "ecab_urgency", "ecab_risk", "ecab_change_type", "ecab_resources"]
)
def test_approval_needs_the_quick_rating_and_resources(field):
    """Approving without the rating or the resources is refused by the form; rejecting needs neither."""
    schema = form("change_emergency_authorise.json")["schema"]
    approved = {**BASE["change_emergency_authorise.json"], field: None}
    approved = {k: v for k, v in approved.items() if v is not None}
    assert list(Draft202012Validator(schema).iter_errors(approved))
    rejected = {"ecab_decision": "reject", "ecab_comments": "否", "ecab_participants": "ecab_li"}
    assert not list(Draft202012Validator(schema).iter_errors(rejected))


# ---------------------------------------------------------------- from another process (replies)


def test_from_change_rejected_goes_back_to_the_change(package):
    """Started by change assessment; the ECAB rejects: emergency_change_completed (rejected) to the change."""
    walk = Walk(package).start_by_message(FROM_CHANGE)
    task = walk.open_task("authorise_emergency_change")
    assert task.data["title"] == FROM_CHANGE["title"] and task.data["affected_cis"] == ["DB-CORE-01"]
    assert (task.data["ec_origin"], task.data["ec_related_record"]) == ("change_assessment", CHANGE_KEY)
    assert task.data["sys_started_by"] == "system"
    walk.do("authorise_emergency_change", ecab_decision="reject", ecab_comments="请按一般变更处理")
    assert replies(walk) == [reply("rejected")]
    assert "reply_rejected" in walk.result.completed_elements
    walk.ended("end_rejected")


def test_from_change_implemented_tells_the_change(package):
    """Started by change assessment and carried through: emergency_change_completed (implemented) at close."""
    walk = (
        Walk(package)
        .start_by_message(FROM_CHANGE)
        .do("authorise_emergency_change")
        .do("plan_emergency_change")
    )
    build_and_pass(walk).do("implement_emergency_change").do("review_emergency_change")
    assert walk.messages == []
    walk.do("close_emergency_change")
    assert replies(walk) == [reply("implemented")]
    walk.ended("end_implemented")
    assert walk.result.completed_elements.index("reply_implemented") > walk.result.completed_elements.index(
        "close_emergency_change"
    )


def test_from_an_incident(package):
    """An incident asks directly (source_process incident): the reply is correlated on the incident's key."""
    payload = {**FROM_CHANGE, "source_key": "INC-2026-000123", "source_process": "incident"}
    walk = Walk(package).start_by_message(payload)
    task = walk.open_task("authorise_emergency_change")
    assert (task.data["ec_origin"], task.data["ec_related_record"]) == ("incident", "INC-2026-000123")
    walk.do("authorise_emergency_change", ecab_decision="reject", ecab_comments="否")
    [(name, correlation, sent)] = replies(walk)
    assert (name, correlation) == (REPLY, {"source_key": "INC-2026-000123"})
    assert sent == {"source_key": "INC-2026-000123", "change_key": BUSINESS_KEY, "outcome": "rejected"}


def test_a_request_without_source_key_is_refused(package):
    """The message start reads its correlation (source_key) from the payload; a request without it is
    refused (the platform keeps it undeliverable for an admin) instead of starting a record nobody answers."""
    payload = {k: v for k, v in FROM_CHANGE.items() if k != "source_key"}
    first = Engine().start(package, dict(payload, sys_business_key=BUSINESS_KEY), message=START_MESSAGE)
    with pytest.raises(MessageNotAccepted, match="source_key"):
        Engine().deliver_message(package, first.snapshot, START_MESSAGE, payload)


# ---------------------------------------------------------------- build, test, back out, implement


def test_no_time_to_test_implements_untested(package):
    """Time does not allow a test: straight from the build to the implementation (with a reason)."""
    walk = Walk(package).start().do("authorise_emergency_change").do("plan_emergency_change")
    walk.do("build_emergency_change", ec_test_decision="skip", ecb_skip_reason="服务中断，无法等待测试")
    task = walk.open_task("implement_emergency_change")
    assert task.data["ecb_skip_reason"] == "服务中断，无法等待测试"
    review_and_close(walk)
    assert "test_emergency_change" not in walk.result.completed_elements
    assert walk.passed("build_test_start") == 1


def test_skipping_the_test_needs_a_reason():
    """The build form refuses "no test" without a reason."""
    schema = form("change_emergency_build.json")["schema"]
    assert list(
        Draft202012Validator(schema).iter_errors({"ecb_build_notes": "b", "ec_test_decision": "skip"})
    )


def test_failed_test_backs_out_and_builds_again(package):
    """A failed test: back-out plan, then a new build and test, which passes; then the implementation."""
    walk = Walk(package).start().do("authorise_emergency_change").do("plan_emergency_change")
    walk.do("build_emergency_change").do(
        "test_emergency_change", ec_test_result="failed", ect_findings="规则冲突"
    )
    task = walk.open_task("back_out_emergency_change")
    assert task.data["ect_findings"] == "规则冲突" and task.data["ecp_back_out_plan"] == "恢复备份的策略"
    walk.do("back_out_emergency_change")
    task = walk.open_task("build_emergency_change")
    assert task.data["ecbo_notes"] == "已恢复原策略"
    build_and_pass(walk)
    review_and_close(walk)
    assert walk.passed("build_emergency_change") == 2 and walk.passed("test_emergency_change") == 2
    assert walk.passed("back_out_emergency_change") == 1


def test_failed_test_then_no_time_for_another(package):
    """After a failed test and a back-out, the second build goes out untested when time runs out."""
    walk = Walk(package).start().do("authorise_emergency_change").do("plan_emergency_change")
    walk.do("build_emergency_change").do("test_emergency_change", ec_test_result="failed")
    walk.do("back_out_emergency_change", ecbo_state="remediated", ecbo_notes="已执行补救计划")
    walk.do("build_emergency_change", ec_test_decision="skip", ecb_skip_reason="窗口即将结束")
    walk.do(
        "implement_emergency_change",
        eci_result="failed_remediated",
        eci_cis_changed=True,
        eci_changed_cis=["FW-EDGE-01"],
    )
    walk.do("review_emergency_change", ecr_result="failed").do("close_emergency_change").ended(
        "end_implemented"
    )
    assert walk.passed("test_emergency_change") == 1 and walk.passed("build_emergency_change") == 2


def rebuild(walk: Walk, passes: int) -> Walk:
    """``passes`` rounds of build, failed test and back-out through the public API."""
    for _ in range(passes):
        walk.do("build_emergency_change", SHORT)
        walk.do("test_emergency_change", SHORT)
        walk.do("back_out_emergency_change", SHORT)
    return walk


def run_in_memory(package: Any, snapshot: str, rounds: int, steps: list[tuple[str, dict]]) -> str:
    """Drive ``rounds`` passes of the loop inside one restored workflow; return the snapshot after them.

    Through the public API every command restores and stores the whole snapshot, and a standard loop keeps
    each pass's subprocess in it (~10 KB a pass here), so 500 passes cost O(n^2): about 5 CPU minutes on the
    2-core box. Here the engine's own restore runs once and each step is SpiffWorkflow's ``task.run`` +
    ``do_engine_steps`` (what ``Engine.complete_task`` does; the loop body has no plain or script tasks),
    looking for the open task in the current pass only. One snapshot at the end goes back to the public API.
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


def test_rebuild_loop_repeats(package):
    """Five failed tests in a row: each time back out and build again, then the test passes."""
    walk = (
        Walk(package)
        .start_by_message(FROM_CHANGE)
        .do("authorise_emergency_change")
        .do("plan_emergency_change")
    )
    rebuild(walk, 5)
    build_and_pass(walk)
    review_and_close(walk)
    assert walk.passed("back_out_emergency_change") == 5 and walk.passed("build_test_start") == 6
    assert replies(walk) == [reply("implemented")]


@pytest.mark.slow
def test_rebuild_loop_survives_500_passes(package):
    """The build-test-back-out loop is a standard-loop subprocess: 500 failed tests do not stall it.

    Pass 1 and the end go through the public API, passes 2-500 in memory (see ``run_in_memory``).
    """
    walk = Walk(package).start().do("authorise_emergency_change").do("plan_emergency_change")
    rebuild(walk, 1)
    steps = [
        (element, form_data(TASKS[element][1], ACTORS["change_implementer"], {}, SHORT))
        for element in ("build_emergency_change", "test_emergency_change", "back_out_emergency_change")
    ]
    walk._took(Engine().state(package, run_in_memory(package, walk.result.snapshot, 499, steps)))
    build_and_pass(walk)
    review_and_close(walk)
    assert walk.passed("back_out_emergency_change") == 500 and walk.passed("test_emergency_change") == 501
    assert walk.passed("build_test_start") == 501 and walk.messages == []
