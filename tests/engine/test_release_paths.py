"""Every path of processes/release.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance. At every step the test checks which task is open, in which lane
and role, with which form; at the end, which end event was reached and which messages left the instance (name,
payload, correlation). Form data is built from forms/*.json and validated against their schemas.

The two ways in: the start task 发布计划 (the release manager plans a release by hand) and the message
release_requested from change management (the platform starts the instance with the payload as data and
delivers the message, as app/services/deliveries.py does). Replies (release_completed) go out only for the
second. The walker is release_walk.Walk; the loops, repeated, are in test_release_loops.py.
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from engine import Engine, MessageNotAccepted
from tests.engine.release_walk import (
    BASE,
    BUSINESS_KEY,
    CHANGE_KEY,
    FROM_CHANGE,
    LANES,
    NS,
    PROCESS,
    ROOT,
    START_MESSAGE,
    TASKS,
    Walk,
    approved,
    carried_out,
    form,
    invalid,
    load_release,
    replies,
    reply,
)


@pytest.fixture(scope="module")
def package():
    """The process, loaded and linted as the platform loads it (its own file, DMNs from processes/)."""
    return load_release()


# ---------------------------------------------------------------- the package


def test_package_lanes_tasks_forms_and_start(package):
    """Start task and start message, both lanes' roles, each user task's role and form; no DMN needed."""
    assert (package.process_id, package.name) == (PROCESS, "发布管理")
    assert package.start_task == "plan_release"
    assert package.start_messages == (START_MESSAGE,)
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"release.bpmn"}


def test_assignee_and_notices(package):
    """The rollout goes to the operator the release manager named; notices where someone must act."""
    props = package.element_properties
    assert props["execute_release"]["assignee"] == "ri_operator"
    assert props["execute_release"]["notifyTo"] == "release_manager"
    assert props["test_release"]["notifyTo"] == "release_manager"
    assert props["reapproval_requested"]["notifyTo"] == "change_manager"
    assert props["end_rejected"]["notifyTo"] == "requester,change_manager"
    assert props["end_released"]["notifyTo"] == "requester"
    assert not any("separateFrom" in p for p in props.values())


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


# ---------------------------------------------------------------- planned by hand (no replies)


def test_by_hand_planned_tested_approved_released(package):
    """The happy path of a release planned by hand: no message goes anywhere."""
    walk = Walk(package).start()
    task = walk.open_task("test_release")
    assert task.data["rp_verification"] == "预发布环境验收，业务部门签字"
    assert (task.data["source_key"], task.data["source_process"]) == ("", "")
    walk.do("test_release")
    assert walk.open_task("approve_release").data["rt_report"] == "全部用例通过"
    walk.do("approve_release")
    assert walk.open_task("implement_release").data["ra_comments"] == "同意发布"
    walk.do("implement_release")
    task = walk.open_task("execute_release")
    assert (task.data["ri_operator"], task.data["ri_rollout_plan"]) == ("op_zhou", "灰度 10% → 50% → 100%")
    carried_out(walk)
    assert walk.messages == []
    for element in ("revise_release", "reapproval_requested", "reply_released", "reply_rejected"):
        assert element not in walk.result.completed_elements
    assert walk.result.data["rc_released_versions"] == "APP-PORTAL-01 = 5.1.0"


def test_by_hand_rejected(package):
    """An infeasible release planned by hand ends rejected; the rollout is never planned; no message."""
    walk = Walk(package).start().do("test_release")
    walk.do("approve_release", ra_decision="reject", ra_rfc_checked=False, ra_comments="窗口与年检冲突")
    walk.ended("end_rejected")
    assert walk.messages == []
    assert "implement_release" not in walk.result.completed_elements


def test_close_records_versions_and_known_errors(package):
    """Released versions for the CMDB and known errors for the KEDB stay in the instance's data."""
    walk = approved(Walk(package).start()).do("execute_release", rx_result="partial").do("review_release")
    walk.do(
        "close_release",
        rc_has_known_errors=True,
        rc_known_errors="旧浏览器样式错位；临时方案：使用新版浏览器",
    )
    walk.ended("end_released")
    assert walk.result.data["rc_known_errors"].startswith("旧浏览器样式错位")
    assert walk.result.data["rc_released_cis"] == ["APP-PORTAL-01"]


# ---------------------------------------------------------------- asked for by change management (replies)


def test_from_change_released_tells_the_change(package):
    """Started by a change: the plan opens with the request; release_completed (released) at close."""
    walk = Walk(package).start_by_message(FROM_CHANGE)
    task = walk.open_task("plan_release")
    for key in ("title", "description", "change_key"):
        assert task.data[key] == FROM_CHANGE[key]
    assert task.data["sys_started_by"] == "system"
    walk.do(
        "plan_release",
        title=FROM_CHANGE["title"],
        description=FROM_CHANGE["description"],
        change_key=CHANGE_KEY,
    )
    approved(walk).do("execute_release").do("review_release")
    assert walk.messages == []
    walk.do("close_release")
    assert replies(walk) == [reply("released")]
    walk.ended("end_released")


def test_from_change_rejected_goes_back_to_the_change(package):
    """Started by a change; the release is infeasible: release_completed (rejected) to the change."""
    walk = Walk(package).start_by_message(FROM_CHANGE).do("plan_release").do("test_release")
    walk.do("approve_release", ra_decision="reject", ra_rfc_checked=False, ra_comments="方案不可行")
    assert replies(walk) == [reply("rejected")]
    assert "reply_rejected" in walk.result.completed_elements
    walk.ended("end_rejected")


def test_a_request_without_source_key_is_refused(package):
    """The message start reads its correlation (source_key) from the payload; a request without it is
    refused (the platform keeps it undeliverable for an admin) instead of starting a record nobody answers."""
    payload = {k: v for k, v in FROM_CHANGE.items() if k != "source_key"}
    first = Engine().start(package, dict(payload, sys_business_key=BUSINESS_KEY), message=START_MESSAGE)
    with pytest.raises(MessageNotAccepted, match="source_key"):
        Engine().deliver_message(package, first.snapshot, START_MESSAGE, payload)


# ---------------------------------------------------------------- test, revise, rebuild


def test_failed_test_goes_back_to_planning_and_rebuild(package):
    """A failed test: the release manager revises the plan and rebuilds; the operator tests again."""
    walk = Walk(package).start()
    walk.do("test_release", rt_integration="failed", rt_result="failed", rt_report="接口超时")
    task = walk.open_task("revise_release")
    assert (task.data["rt_report"], task.data["rt_integration"]) == ("接口超时", "failed")
    walk.do("revise_release", rv_release_date="2026-03-27T14:00:00+00:00")
    task = walk.open_task("test_release")
    assert task.data["rv_changes"] == "增加数据迁移步骤"
    approved(walk)
    carried_out(walk)
    assert walk.passed("test_release") == 2 and walk.passed("revise_release") == 1


def test_verdict_must_match_the_tests():
    """A "passed" verdict is refused while a test failed; "failed" needs no particular test result."""
    failing = {**BASE["release_test.json"], "rt_acceptance": "failed"}
    assert invalid("release_test.json", failing)
    assert not invalid("release_test.json", {**failing, "rt_result": "failed"})


# ---------------------------------------------------------------- approve, implement, re-approve


def test_changed_tasks_or_timing_go_back_to_approval(package):
    """Assigning the tasks moves the timing and affects the change plan: approval again, then the rollout."""
    walk = Walk(package).start().do("test_release").do("approve_release")
    walk.do(
        "implement_release", ri_reapproval_needed=True, ri_change_impact="实施窗口推迟一周，变更计划需调整"
    )
    assert "reapproval_requested" in walk.result.completed_elements
    task = walk.open_task("approve_release")
    assert task.data["ri_change_impact"] == "实施窗口推迟一周，变更计划需调整"
    walk.do("approve_release", ra_comments="同意调整后的窗口").do("implement_release")
    carried_out(walk)
    assert walk.passed("approve_release") == 2 and walk.passed("implement_release") == 2


def test_reapproval_refused_goes_back_to_the_change(package):
    """Started by a change; the re-approval finds the adjusted plan infeasible: back to the change."""
    walk = (
        Walk(package)
        .start_by_message(FROM_CHANGE)
        .do("plan_release")
        .do("test_release")
        .do("approve_release")
    )
    walk.do("implement_release", ri_reapproval_needed=True, ri_change_impact="需要额外停机")
    assert walk.messages == []
    walk.do("approve_release", ra_decision="reject", ra_rfc_checked=False, ra_comments="停机不可接受")
    assert replies(walk) == [reply("rejected")]
    walk.ended("end_rejected")
    assert walk.passed("approve_release") == 2 and walk.passed("implement_release") == 1
    assert "execute_release" not in walk.result.completed_elements


def test_approving_needs_the_rfc_checked():
    """The approval form refuses "approve" unless the RFC was checked; "reject" does not need it."""
    data = {"ra_rfc_checked": False, "ra_decision": "approve", "ra_comments": "x"}
    assert invalid("release_approve.json", data)
    assert not invalid("release_approve.json", {**data, "ra_decision": "reject"})


def test_reapproval_needs_the_effect_on_the_change_plan():
    """Asking for re-approval without saying how the change plan is affected is refused."""
    data = {**BASE["release_implement.json"], "ri_reapproval_needed": True}
    assert invalid("release_implement.json", data)
