"""Every path of processes/incident.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned (the platform stores nothing else), and after every
command a fresh Engine restores that snapshot and must see the same instance: open tasks, status, history,
subscriptions. At every step the test checks which task is open, in which lane and role, with which form; at
the end, the status and which end event was reached (closed or rejected). Form data is built from
forms/*.json and validated against their schemas, so the process and its forms cannot drift apart unnoticed.

Here: the package, the paths through the tiers and back, the priority table. Messages to other processes and
waiting for a change are in test_incident_links.py; the loops, repeated 500 times, in test_incident_loops.py.
"""

from __future__ import annotations

import pytest

from engine import Engine
from tests.engine.incident_walk import (
    BUSINESS_KEY,
    LANES,
    LINKS,
    RESOLVED,
    TASKS,
    Walk,
    confirm_and_close,
    escalate,
    load_incident,
    passes,
    to_l1,
    unresolved_at_l3,
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
    assert package.start_messages == ()
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert package.user_tasks["record_incident"].name == "事件检测和记录"
    assert set(package.files) == {"incident.bpmn", "incident_priority.dmn", "incident_change_outcome.dmn"}


def test_notices_are_declared_on_the_elements(package):
    """Rejected, escalated, awaiting confirmation, closed: notifyTo / notifyText as docs/contracts.md says."""
    notices = {
        element: (props["notifyTo"], props["notifyText"])
        for element, props in package.element_properties.items()
        if "notifyTo" in props
    }
    assert notices == {
        "tell_reporter": (
            "requester",
            "您的事件 {sys_business_key} 不在服务台受理范围内：{rejection_reason}",
        ),
        "escalated_to_l2": (
            "service_desk",
            "事件 {sys_business_key} 已由一线升级到二线：{l1_escalation_reason}",
        ),
        "escalated_to_l3": (
            "service_desk",
            "事件 {sys_business_key} 已由二线升级到三线：{l2_escalation_reason}",
        ),
        "report_problem": (
            "incident_manager",
            "事件 {sys_business_key} 已解决但根本原因未明，已提交问题管理。",
        ),
        "resolved_notice": ("requester", "您的事件 {sys_business_key} 已处理，请确认是否解决：{resolution}"),
        "end_closed": ("requester", "您的事件 {sys_business_key} 已关闭。"),
        "sla_l1_warned": (
            "support_l1,service_desk",
            "事件 {sys_business_key}（{priority}）即将超出一线处理时限",
        ),
        "sla_escalated_to_l2": (
            "service_desk,support_l2,incident_manager",
            "事件 {sys_business_key}（{priority}）一线处理超时，已按服务级别升级到二线",
        ),
        "sla_l2_warned": (
            "support_l2,service_desk",
            "事件 {sys_business_key}（{priority}）即将超出二线处理时限",
        ),
        "sla_escalated_to_l3": (
            "service_desk,support_l3,incident_manager",
            "事件 {sys_business_key}（{priority}）二线处理超时，已按服务级别升级到三线",
        ),
    }


def test_sla_timers_warn_then_escalate_each_tier_on_the_engine_clock(package):
    """Seed step 4: a tier that does not solve it in its SLA time limit hands it to the next tier."""
    from datetime import UTC, datetime, timedelta

    from tests.engine.incident_walk import incident_engine

    now = [datetime(2027, 3, 1, 9, 0, tzinfo=UTC)]
    engine = incident_engine(clock=lambda: now[0])
    walk = to_l1(Walk(package, engine=engine))
    timers = {t.element_id: t.due_at for t in walk.result.timers}
    assert timers == {
        "sla_l1_warning": now[0] + timedelta(minutes=45),
        "sla_l1_breach": now[0] + timedelta(hours=1),
    }
    now[0] += timedelta(minutes=46)
    walk._took(engine.fire_due_timers(package, walk.result.snapshot))
    assert "sla_l1_warned" in walk.result.completed_elements  # warned, still first line's
    assert [t.element_id for t in walk.result.open_tasks] == ["investigate_l1"]
    now[0] += timedelta(minutes=15)
    walk._took(engine.fire_due_timers(package, walk.result.snapshot))
    assert [(t.element_id, t.role) for t in walk.result.open_tasks] == [("investigate_l2", "support_l2")]
    assert "sla_escalated_to_l2" in walk.result.completed_elements
    now[0] += timedelta(hours=2)
    walk._took(engine.fire_due_timers(package, walk.result.snapshot))
    assert [(t.element_id, t.role) for t in walk.result.open_tasks] == [("investigate_l3", "support_l3")]


# ---------------------------------------------------------------- paths


def test_out_of_remit_is_rejected(package):
    """Outside the desk's remit: the reporter is told and the incident ends rejected."""
    walk = Walk(package).start()
    task = walk.open_task("record_incident")
    assert task.data["title"] == "邮件系统无法登录" and task.data["channel"] == "web"
    walk.do("record_incident", within_remit=False, rejection_reason="非本单位系统").ended("end_rejected")
    assert "tell_reporter" in walk.result.completed_elements
    assert walk.result.data["rejection_reason"] == "非本单位系统"
    assert "classify_incident" not in walk.result.completed_elements
    assert walk.sent == []


def test_desk_resolves_itself(package):
    """The desk resolves it from the knowledge base; the requester confirms; the desk closes."""
    walk = Walk(package).start().do("record_incident").do("classify_incident", desk_decision="resolve")
    walk.do("resolve_by_desk")
    assert walk.open_task("confirm_resolution").data["resolution"] == RESOLVED["resolution"]
    assert "resolved_notice" in walk.result.completed_elements
    confirm_and_close(walk)
    assert "investigate_l1" not in walk.result.completed_elements
    assert not LINKS & set(walk.result.completed_elements)
    assert walk.sent == []


def test_first_line_resolves(package):
    """Routed to support: first line investigates and resolves."""
    walk = to_l1(Walk(package)).do("investigate_l1").do("resolve_l1")
    confirm_and_close(walk)
    assert "investigate_l2" not in walk.result.completed_elements
    assert passes(walk, "resolution_cycle") == 1


def test_second_line_resolves(package):
    """First line escalates (the desk is told); second line investigates and resolves."""
    walk = to_l1(Walk(package)).do("investigate_l1", **escalate("l1"))
    assert walk.open_task("investigate_l2").data["l1_diagnosis"] == "认证服务返回 500"
    assert "escalated_to_l2" in walk.result.completed_elements
    walk.do("investigate_l2").do("resolve_l2")
    confirm_and_close(walk)
    assert "investigate_l3" not in walk.result.completed_elements


def test_third_line_resolves(package):
    """First and second line escalate; third line investigates and resolves."""
    walk = to_l1(Walk(package)).do("investigate_l1", **escalate("l1")).do("investigate_l2", **escalate("l2"))
    assert "escalated_to_l3" in walk.result.completed_elements
    walk.do("investigate_l3").do("resolve_l3")
    confirm_and_close(walk)
    assert "review_unresolved" not in walk.result.completed_elements


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
    assert "request_problem" in walk.result.completed_elements
    [message] = walk.result.messages
    assert (message.name, message.correlation, message.payload) == (
        "problem_requested",
        {"source_key": BUSINESS_KEY},
        {
            "source_key": BUSINESS_KEY,
            "source_process": "incident",
            "title": "邮件系统无法登录",
            "description": "认证服务间歇性失败",
            "affected_cis": ["APP-MAIL-01"],
            "priority": "P3",
        },
    )
    walk.do("investigate_l3").do("resolve_l3")
    confirm_and_close(walk)
    assert walk.passed("investigate_l3") == 2 and passes(walk, "l3_review") == 2


def test_unresolved_closed_by_incident_manager(package):
    """L3 unresolved -> incident manager closes it for problem management; the desk closes it."""
    walk = unresolved_at_l3(Walk(package)).do("review_unresolved", manager_decision="close_unresolved")
    assert "request_problem" not in walk.result.completed_elements
    assert {"end_l3_closed", "end_cycle_unresolved"} <= set(walk.result.completed_elements)
    walk.do("close_incident", closure_code="unresolved").ended("end_closed")
    assert "confirm_resolution" not in walk.result.completed_elements
    assert walk.sent == []


def test_manager_sends_back_twice(package):
    """The incident manager may send it back to L3 more than once (a loop)."""
    walk = unresolved_at_l3(Walk(package))
    for _ in range(2):
        walk.do("review_unresolved").do("investigate_l3", **escalate("l3", "unresolved"))
    walk.do("review_unresolved", manager_decision="close_unresolved").do("close_incident").ended("end_closed")
    assert walk.passed("review_unresolved") == 3 and walk.passed("end_l3_reinvestigate") == 2


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
    assert walk.passed("end_cycle_reopened") == 1


def test_reopened_after_second_line_restarts_at_first_line(package):
    """Modelled choice: whoever resolved it, a reopened incident comes back to first line."""
    walk = to_l1(Walk(package)).do("investigate_l1", **escalate("l1")).do("investigate_l2").do("resolve_l2")
    walk.do("confirm_resolution", confirmation="not_resolved", feedback="又出现了")
    walk.do("investigate_l1", **escalate("l1")).do("investigate_l2").do("resolve_l2")
    confirm_and_close(walk)


def test_desk_resolution_not_confirmed_goes_to_first_line(package):
    """The desk's own fix is not confirmed: first line investigates (the desk resolves on pass 1 only)."""
    walk = Walk(package).start().do("record_incident").do("classify_incident", desk_decision="resolve")
    walk.do("resolve_by_desk").do("confirm_resolution", confirmation="not_resolved", feedback="没有解决")
    walk.do("investigate_l1").do("resolve_l1")
    confirm_and_close(walk)
    assert walk.passed("resolve_by_desk") == 1


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
