"""Every path of processes/change.bpmn (normal change with the CAB), walked task by task through engine/.

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance (open tasks, status, history). At every step the test checks
which tasks are open, in which lane and role, with which form; messages to other processes are checked by
name, payload and correlation, and their replies delivered with ``Engine.deliver_message``. Form data is
built from forms/*.json and validated against their schemas.

Here: the package, the normal paths, the assessment and the implementation. The walker is change_walk.Walk;
the CAB is in test_change_cab.py, emergency changes and changes from other processes in
test_change_messages.py, the repeated loops in test_change_loops.py.
"""

from __future__ import annotations

import pytest

from tests.engine.change_walk import (
    KEY,
    LANES,
    RFC,
    TASKS,
    Walk,
    approved_minor,
    implement_to_end,
    load_change,
    review_and_close,
)


@pytest.fixture(scope="module")
def package():
    """The change process, loaded and linted like the platform loads it."""
    return load_change()


# ------------------------------------------------------------------------------------- the package


def test_package_lanes_tasks_forms_and_properties(package):
    """The start task and message, each lane's role, each user task's role and form, platform properties."""
    assert (package.process_id, package.name) == ("change", "变更管理")
    assert package.start_task == "submit_rfc"
    assert package.start_messages == ("change_requested",)
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"change.bpmn", "change_class.dmn", "cab_decision.dmn"}
    props = package.element_properties
    assert props["approve_change"]["separateFrom"] == "starter,submit_rfc"
    assert props["cab_approve"]["separateFrom"] == "starter,submit_rfc"
    assert props["cab_approve"]["assignee"] == "voter"
    assert props["review_change"]["separateFrom"] == "implement_change"
    assert props["update_cmdb"]["platformEffect"] == "cmdb_update"
    assert props["implement_change"]["assignee"] == "assigned_implementer"
    assert props["convene_cab"]["notifyTo"] == "user:cab_members"
    assert props["chase_handover"]["notifyTo"] == "assignee:implement_change"
    assert props["end_rejected"]["notifyTo"] == "requester"
    for element in (
        "approve_change",
        "convene_cab",
        "decide_cab",
        "chase_handover",
        "end_rejected",
        "end_closed",
    ):
        assert props[element]["notifyText"], element


# ------------------------------------------------------------------------------------ normal paths


def test_minor_change_approved_implemented_reviewed_closed(package):
    """A minor change: the change manager approves; scheduled, implemented, reviewed, closed; no reply."""
    walk = Walk(package).start()
    task = walk.open_task("assess_change")
    assert task.data["title"] == RFC["title"] and task.data["source_key"] == ""
    walk.do("assess_change")
    assert walk.result.data["change_class"] == "minor"
    assert walk.open_task("approve_change").data["change_plan"] == "备份后升级"
    walk.do("approve_change")
    assert walk.open_task("schedule_tasks").data["manager_opinion"] == "同意"
    walk.do("schedule_tasks")
    task = walk.open_task("implement_change")
    assert task.data["assigned_implementer"] == "impl"
    walk.do("implement_change")
    assert "request_release" not in walk.result.completed_elements
    assert "update_cmdb" not in walk.result.completed_elements
    review_and_close(walk)
    assert walk.sent == []
    for skipped in (
        "complete_rfc",
        "convene_cab",
        "cab_approve",
        "request_emergency_change",
        "notify_origin",
    ):
        assert skipped not in walk.result.completed_elements


@pytest.mark.parametrize(
    ("assessment", "change_class", "next_step"),
    [
        ({"urgency": "critical", "impact": "low"}, "emergency", None),
        ({"urgency": "critical", "impact": "high", "risk_level": "high"}, "emergency", None),
        ({"impact": "high"}, "major", "convene_cab"),
        ({"impact": "medium", "risk_level": "high"}, "major", "convene_cab"),
        ({"risk_level": "high"}, "major", "convene_cab"),
        ({"urgency": "high", "impact": "medium"}, "normal", "approve_change"),
        ({"risk_level": "medium"}, "normal", "approve_change"),
        ({"urgency": "medium"}, "minor", "approve_change"),
        ({"urgency": "high"}, "minor", "approve_change"),
    ],
)
def test_change_class_from_the_decision_table(package, assessment, change_class, next_step):
    """change_class.dmn over impact, urgency and risk routes to the ECAB, the CAB or the change manager."""
    walk = Walk(package).start().do("assess_change", **assessment)
    assert walk.result.data["change_class"] == change_class
    assert "determine_change_class" in walk.result.completed_elements
    if next_step:
        walk.open_task(next_step)
    else:
        assert walk.result.open_tasks == []
        assert [s.name for s in walk.result.subscriptions] == ["emergency_change_completed"]


@pytest.mark.parametrize(
    ("count", "change_class"),
    [(1, "minor"), (2, "minor"), (3, "normal"), (9, "normal"), (10, "major"), (12, "major")],
)
def test_change_class_by_number_of_affected_cis(package, count, change_class):
    """Low impact and risk: one or two CIs minor, three to nine normal, ten or more major."""
    cis = [f"SRV-{n:02d}" for n in range(count)]
    walk = Walk(package).start(affected_cis=cis).do("assess_change")
    assert walk.result.data["change_class"] == change_class
    walk.open_task("convene_cab" if change_class == "major" else "approve_change")


def test_normal_change_goes_the_same_way_as_minor(package):
    """A normal change is approved by the change manager too."""
    walk = Walk(package).start().do("assess_change", impact="medium")
    assert walk.result.data["change_class"] == "normal"
    walk.do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)


# -------------------------------------------------------------------------------------- assessment


def test_incomplete_rfc_goes_back_to_the_requester_and_is_assessed_again(package):
    """Returned: the requester completes the RFC (same fields, current values); the analyst assesses again."""
    walk = Walk(package).start()
    walk.do("assess_change", rfc_check="returned", rfc_return_reason="缺少回退方案说明")
    task = walk.open_task("complete_rfc")
    assert task.data["rfc_return_reason"] == "缺少回退方案说明"
    assert task.data["title"] == RFC["title"] and task.data["assessed_by"] == "ana"
    walk.do("complete_rfc", title="升级邮件服务器操作系统（分批）")
    task = walk.open_task("assess_change")
    assert task.data["title"] == "升级邮件服务器操作系统（分批）"
    assert task.data["rfc_completion_note"] == "补充了实施窗口"
    walk.do("assess_change").do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)
    assert walk.passed("assess_change") == 2 and walk.passed("complete_rfc") == 1


@pytest.mark.parametrize(
    "reason",
    [
        {"rfc_reject_category": "impractical", "rfc_reject_reason": "预算不足"},
        {
            "rfc_reject_category": "duplicate",
            "rfc_duplicate_of": "CHG-2026-000001",
            "rfc_reject_reason": "重复",
        },
    ],
)
def test_rejected_rfc_ends_rejected(package, reason):
    """Impractical or duplicate: the analyst rejects it; the change ends rejected and nobody else is told."""
    walk = Walk(package).start().do("assess_change", rfc_check="rejected", **reason)
    walk.ended("end_rejected")
    assert "determine_change_class" not in walk.result.completed_elements
    assert walk.sent == []


def test_manager_rejection_goes_back_to_assessment(package):
    """The change manager rejects: back to the analyst, who improves the plan; then approved."""
    walk = Walk(package).start().do("assess_change")
    walk.do("approve_change", manager_decision="reject", manager_opinion="回退方案不充分")
    task = walk.open_task("assess_change")
    assert task.data["manager_opinion"] == "回退方案不充分"
    assert task.data["change_plan"] == "备份后升级"  # the form opens on the current plan
    walk.do("assess_change", backout_plan="从快照恢复，并保留旧服务器一周").do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)
    assert walk.passed("approve_change") == 2 and walk.passed("assessment_cycle") >= 2


def test_manager_rejection_then_reassessed_as_major_goes_to_the_cab(package):
    """After a rejection the analyst may reclassify: the second round goes to the CAB."""
    walk = Walk(package).start().do("assess_change").do("approve_change", manager_decision="reject")
    walk.do("assess_change", impact="high").do("convene_cab").vote(
        "approve", "approve", "approve", "approve", "approve"
    )
    walk.open_task("schedule_tasks")


# ---------------------------------------------------------------------------------- implementation


def test_release_requested_and_released(package):
    """A release package: release_requested goes out, the change waits for release_completed (released)."""
    walk = approved_minor(Walk(package)).do("schedule_tasks")
    walk.do("implement_change", needs_release=True, release_scope="OS 8 镜像与配置")
    sent = walk.message("release_requested")
    assert sent.correlation == {"source_key": KEY}
    assert sent.payload == {
        "source_key": KEY,
        "source_process": "change",
        "title": RFC["title"],
        "description": "OS 8 镜像与配置",
        "change_key": KEY,
    }
    assert [(s.name, s.correlation) for s in walk.result.subscriptions] == [
        ("release_completed", {"source_key": KEY})
    ]
    assert walk.result.open_tasks == []
    walk.deliver("release_completed", source_key=KEY, release_key="REL-1", outcome="released")
    review_and_close(walk)


def test_release_rejected_goes_back_to_scheduling(package):
    """The release is rejected: back to 安排和分派任务; re-planned without a release this time."""
    walk = approved_minor(Walk(package)).do("schedule_tasks")
    walk.do("implement_change", needs_release=True, release_scope="OS 8 镜像")
    walk.deliver("release_completed", source_key=KEY, release_key="REL-1", outcome="rejected")
    task = walk.open_task("schedule_tasks")
    assert task.data["release_result"]["outcome"] == "rejected"
    walk.do("schedule_tasks", implementation_plan="就地升级，不发布").do("implement_change")
    review_and_close(walk)
    assert walk.passed("schedule_tasks") == 2 and walk.passed("request_release") == 1


def test_ci_change_updates_the_cmdb_and_asks_for_an_audit(package):
    """CI details changed: the configuration operator updates the CMDB; a configuration audit is asked."""
    walk = approved_minor(Walk(package)).do("schedule_tasks").do("implement_change", ci_changed=True)
    task = walk.open_task("update_cmdb")
    assert task.data["implementation_notes"] == "升级完成，服务正常"
    walk.do("update_cmdb", cmdb_cis=["SRV-MAIL-01", "APP-MAIL-01"])
    sent = walk.message("config_audit_requested")
    assert sent.payload == {
        "source_key": KEY,
        "source_process": "change",
        "change_key": KEY,
        "affected_cis": ["SRV-MAIL-01", "APP-MAIL-01"],
    }
    assert walk.open_task("review_change").data["cmdb_after"] == "os_version: 8"
    review_and_close(walk)


def test_release_then_cmdb(package):
    """Both: the release first, then the CMDB records what reached production."""
    walk = approved_minor(Walk(package)).do("schedule_tasks")
    walk.do("implement_change", needs_release=True, release_scope="OS 8", ci_changed=True)
    walk.deliver("release_completed", source_key=KEY, release_key="REL-1", outcome="released")
    walk.do("update_cmdb")
    review_and_close(walk)
    order = walk.result.completed_elements
    assert order.index("release_done") < order.index("update_cmdb") < order.index("review_change")


def test_failed_implementation_reviewed_as_failed(package):
    """Failed and backed out: reviewed as a failure, closed."""
    walk = approved_minor(Walk(package)).do("schedule_tasks")
    walk.do("implement_change", implementation_result="failed", backout_performed=True)
    review_and_close(walk, review_result="failed")
    assert walk.result.data["review_result"] == "failed"


def test_missing_handover_documents_are_chased_before_closing(package):
    """Handover incomplete: the implementer is asked; the change manager closes when it is complete."""
    walk = approved_minor(Walk(package))
    implement_to_end(walk)
    walk.do("review_change")
    walk.do("close_change", handover_complete=False, handover_missing="回退脚本", closure_notes=None)
    assert "chase_handover" in walk.result.completed_elements
    task = walk.open_task("close_change")
    assert task.data["handover_missing"] == "回退脚本"
    walk.do("close_change").ended("end_closed")
    assert walk.passed("close_change") == 2
