"""Every path of processes/incident.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned (the platform stores nothing else), and after every
command a fresh Engine restores that snapshot and must see the same instance: open tasks, status, history.
At every step the test checks which task is open, in which lane and role, with which form; at the end, the
status and which end event was reached (closed or rejected). Form data is built from forms/*.json and
validated against their schemas, so the process and its forms cannot drift apart unnoticed.
"""

from __future__ import annotations

import pytest

from engine import Engine
from tests.engine.incident_walk import (
    LANES,
    RESOLVED,
    TASKS,
    Walk,
    confirm_and_close,
    escalate,
    load_incident,
    to_l1,
)


@pytest.fixture(scope="module")
def package():
    """The incident process, loaded once for the module."""
    return load_incident()


# ---------------------------------------------------------------- the package


def test_package_lanes_tasks_and_forms(package):
    """The loaded process has the start task, every lane's role, and each user task's role and form."""
    assert package.process_id == "incident"
    assert package.name == "事件管理"
    assert package.start_task == "raise_incident"
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert package.user_tasks["record_incident"].name == "事件检测和记录"
    assert set(package.files) == {"incident.bpmn", "incident_priority.dmn"}


# ---------------------------------------------------------------- paths


def test_out_of_remit_is_rejected(package):
    """Outside the desk's remit: the reporter is told and the incident ends rejected."""
    walk = Walk(package).start()
    task = walk.open_task("record_incident")
    assert task.data["title"] == "邮件系统无法登录" and task.data["channel"] == "web"
    walk.do("record_incident", within_remit=False, rejection_reason="非本单位系统").ended("end_rejected")
    assert "tell_reporter" in walk.result.completed_elements
    assert "classify_incident" not in walk.result.completed_elements


def test_desk_resolves_itself(package):
    """The desk resolves it from the knowledge base; the requester confirms; the desk closes."""
    walk = Walk(package).start().do("record_incident").do("classify_incident", desk_decision="resolve")
    walk.do("resolve_by_desk")
    assert walk.open_task("confirm_resolution").data["resolution"] == RESOLVED["resolution"]
    confirm_and_close(walk)
    assert "investigate_l1" not in walk.result.completed_elements
    for link in ("rfc_link", "problem_candidate_link", "knowledge_link"):
        assert link not in walk.result.completed_elements


def test_first_line_resolves(package):
    """Routed to support: first line investigates and resolves."""
    walk = to_l1(Walk(package)).do("investigate_l1").do("resolve_l1")
    confirm_and_close(walk)
    assert "investigate_l2" not in walk.result.completed_elements


def test_second_line_resolves(package):
    """First line escalates; second line investigates and resolves."""
    walk = to_l1(Walk(package)).do("investigate_l1", **escalate("l1"))
    assert walk.open_task("investigate_l2").data["l1_diagnosis"] == "认证服务返回 500"
    walk.do("investigate_l2").do("resolve_l2")
    confirm_and_close(walk)
    assert "investigate_l3" not in walk.result.completed_elements


def test_third_line_resolves(package):
    """First and second line escalate; third line investigates and resolves."""
    walk = to_l1(Walk(package)).do("investigate_l1", **escalate("l1")).do("investigate_l2", **escalate("l2"))
    walk.do("investigate_l3").do("resolve_l3")
    confirm_and_close(walk)
    assert "review_unresolved" not in walk.result.completed_elements


def unresolved_at_l3(walk: Walk) -> Walk:
    """Escalated through every tier; third line cannot resolve it."""
    to_l1(walk).do("investigate_l1", **escalate("l1")).do("investigate_l2", **escalate("l2"))
    return walk.do("investigate_l3", **escalate("l3", "unresolved"))


def test_unresolved_goes_to_incident_manager_who_opens_a_problem_and_sends_it_back(package):
    """L3 unresolved -> incident manager opens a problem, sends it back to L3, which resolves it."""
    walk = unresolved_at_l3(Walk(package))
    assert walk.open_task("review_unresolved").data["l3_escalation_reason"] == "超出本线能力"
    walk.do(
        "review_unresolved",
        open_problem=True,
        problem_summary="认证服务间歇性失败",
        manager_decision="reinvestigate",
    )
    assert "problem_link" in walk.result.completed_elements
    walk.do("investigate_l3").do("resolve_l3")
    confirm_and_close(walk)
    assert walk.passed("investigate_l3") == 2


def test_unresolved_closed_by_incident_manager(package):
    """L3 unresolved -> incident manager closes it for problem management; the desk closes it."""
    walk = unresolved_at_l3(Walk(package)).do("review_unresolved", manager_decision="close_unresolved")
    assert "problem_link" not in walk.result.completed_elements
    walk.do("close_incident", closure_code="unresolved").ended("end_closed")
    assert "confirm_resolution" not in walk.result.completed_elements


def test_manager_sends_back_twice(package):
    """The incident manager may send it back to L3 more than once (a loop)."""
    walk = unresolved_at_l3(Walk(package))
    for _ in range(2):
        walk.do("review_unresolved").do("investigate_l3", **escalate("l3", "unresolved"))
    walk.do("review_unresolved", manager_decision="close_unresolved").do("close_incident").ended("end_closed")
    assert walk.passed("review_unresolved") == 3


def test_not_satisfied_goes_back_to_first_line(package):
    """The requester does not confirm: back to first-line investigation, then resolved and closed."""
    walk = to_l1(Walk(package)).do("investigate_l1").do("resolve_l1")
    walk.do(
        "confirm_resolution",
        confirmation="not_resolved",
        satisfaction="dissatisfied",
        feedback="仍然无法登录",
    )
    task = walk.open_task("investigate_l1")
    assert task.data["feedback"] == "仍然无法登录"
    walk.do("investigate_l1").do("resolve_l1")
    confirm_and_close(walk)
    assert walk.passed("investigate_l1") == 2 and walk.passed("confirm_resolution") == 2


def test_reopened_after_second_line_restarts_at_first_line(package):
    """Modelled choice: whoever resolved it, a reopened incident comes back to first line."""
    walk = to_l1(Walk(package)).do("investigate_l1", **escalate("l1")).do("investigate_l2").do("resolve_l2")
    walk.do("confirm_resolution", confirmation="not_resolved", feedback="又出现了")
    walk.do("investigate_l1", **escalate("l1")).do("investigate_l2").do("resolve_l2")
    confirm_and_close(walk)


def test_desk_resolution_not_confirmed_goes_to_first_line(package):
    """The desk's own fix is not confirmed: first line investigates."""
    walk = Walk(package).start().do("record_incident").do("classify_incident", desk_decision="resolve")
    walk.do("resolve_by_desk").do("confirm_resolution", confirmation="not_resolved", feedback="没有解决")
    walk.do("investigate_l1").do("resolve_l1")
    confirm_and_close(walk)


@pytest.mark.parametrize(
    ("resolution", "close", "links"),
    [
        ({"needs_change": True, "change_summary": "更换证书管理方式"}, {}, {"rfc_link"}),
        (
            {"root_cause_known": False, "root_cause": None, "resolution_type": "workaround"},
            {},
            {"problem_candidate_link"},
        ),
        (
            {
                "needs_change": True,
                "change_summary": "升级认证服务",
                "root_cause_known": False,
                "root_cause": None,
            },
            {},
            {"rfc_link", "problem_candidate_link"},
        ),
        ({}, {"propose_knowledge": True}, {"knowledge_link"}),
    ],
    ids=["needs_change", "root_cause_unknown", "both", "propose_knowledge"],
)
def test_links_to_other_processes(package, resolution, close, links):
    """The RFC, problem and knowledge places are reached exactly when the forms ask for them."""
    walk = to_l1(Walk(package)).do("investigate_l1").do("resolve_l1", **resolution)
    confirm_and_close(walk, **close)
    all_links = {"rfc_link", "problem_candidate_link", "knowledge_link", "problem_link"}
    assert {e for e in walk.result.completed_elements if e in all_links} == links


# ---------------------------------------------------------------- priority (DMN)


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("high", "high", "P1"),
        ("high", "medium", "P2"),
        ("high", "low", "P3"),
        ("medium", "high", "P2"),
        ("medium", "medium", "P3"),
        ("medium", "low", "P4"),
        ("low", "high", "P3"),
        ("low", "medium", "P4"),
        ("low", "low", "P4"),
    ],
)
def test_priority_from_decision_table(package, impact, urgency, priority):
    """Priority = impact x urgency from incident_priority.dmn, visible to the next task."""
    walk = Walk(package).start().do("record_incident", impact=impact).do("classify_incident", urgency=urgency)
    assert walk.result.data["priority"] == priority
    assert walk.open_task("investigate_l1").data["priority"] == priority
    assert "determine_priority" in walk.result.completed_elements


def test_snapshot_survives_restore_midway(package):
    """A snapshot taken mid-process continues on a different Engine as if nothing happened."""
    walk = to_l1(Walk(package))
    other = Walk(package, engine=Engine(), result=Engine().state(package, walk.result.snapshot))
    other.do("investigate_l1").do("resolve_l1")
    confirm_and_close(other)
    assert other.result.completed_elements[: len(walk.result.completed_elements)] == (
        walk.result.completed_elements
    )
