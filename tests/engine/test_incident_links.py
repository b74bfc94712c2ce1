"""processes/incident.bpmn and the other processes: the change, problem and knowledge messages it throws,
and the replies it waits for when a resolution needs a change.

Walked task by task through engine/ with incident_walk.Walk. Messages to other processes are checked by name,
payload and correlation; replies are delivered as the platform delivers them.
"""

from __future__ import annotations

import pytest

from engine import MessageNotAccepted
from tests.engine.incident_walk import (
    BUSINESS_KEY,
    CHANGE,
    LINKS,
    RESOLVED,
    Walk,
    change_completed,
    confirm_and_close,
    load_incident,
    passes,
    to_l1,
    waiting_for_change,
)


@pytest.fixture(scope="module")
def package():
    """The incident process, loaded once for the module."""
    return load_incident()


@pytest.fixture
def replies():
    """Replies to catches inside the loop subprocess (engine/ correlates them with the loop's request)."""


# ---------------------------------------------------------------- messages to other processes


@pytest.mark.parametrize(
    ("resolution", "close", "links", "messages"),
    [
        (
            {"needs_change": True, "change_summary": "更换证书管理方式", "change_wait": False},
            {},
            {"request_change"},
            ["change_requested"],
        ),
        (
            {"root_cause_known": False, "root_cause": None, "resolution_type": "workaround"},
            {},
            {"report_problem"},
            ["problem_requested"],
        ),
        (
            {
                "needs_change": True,
                "change_summary": "升级认证服务",
                "change_wait": False,
                "root_cause_known": False,
                "root_cause": None,
            },
            {},
            {"request_change", "report_problem"},
            ["change_requested", "problem_requested"],
        ),
        (
            {},
            {
                "propose_knowledge": True,
                "knowledge_category": "application",
                "knowledge_body": "证书过期导致",
            },
            {"submit_knowledge"},
            ["knowledge_submitted"],
        ),
    ],
    ids=["needs_change", "root_cause_unknown", "both", "propose_knowledge"],
)
def test_links_to_other_processes(package, resolution, close, links, messages):
    """The change, problem and knowledge messages are thrown exactly when the forms ask for them."""
    walk = to_l1(Walk(package)).do("investigate_l1").do("resolve_l1", **resolution)
    confirm_and_close(walk, **close)
    assert {e for e in walk.result.completed_elements if e in LINKS} == links
    assert [m.name for m in walk.sent] == messages
    for message in walk.sent:
        assert message.correlation == {"source_key": BUSINESS_KEY}
        assert message.payload["source_key"] == BUSINESS_KEY
        assert message.payload["source_process"] == "incident"


def test_payloads_follow_the_message_catalogue(package):
    """change_requested, problem_requested and knowledge_submitted carry the catalogue's keys."""
    walk = to_l1(Walk(package)).do("investigate_l1")
    walk.do(
        "resolve_l1",
        needs_change=True,
        change_summary="升级认证服务",
        change_wait=False,
        root_cause_known=False,
        root_cause=None,
    )
    # the report to the incident manager is a notice; the incident goes on to the requester meanwhile
    assert {"report_problem", "resolved_notice"} <= set(walk.result.completed_elements)
    walk.open_task("confirm_resolution")
    confirm_and_close(
        walk,
        propose_knowledge=True,
        knowledge_category="application",
        knowledge_body="重启认证服务可临时恢复",
    )
    change, problem, knowledge = walk.sent
    assert change.payload == {
        "source_key": BUSINESS_KEY,
        "source_process": "incident",
        "title": f"邮件系统无法登录（事件 {BUSINESS_KEY}）",
        "description": "升级认证服务",
        "reason": f"解决事件 {BUSINESS_KEY}：{RESOLVED['resolution']}",
        "affected_cis": ["APP-MAIL-01"],
    }
    assert problem.payload == {
        "source_key": BUSINESS_KEY,
        "source_process": "incident",
        "title": "邮件系统无法登录",
        "description": f"根本原因未明。症状：登录时提示 500 错误；处理：{RESOLVED['resolution']}",
        "affected_cis": ["APP-MAIL-01"],
        "priority": "P3",
    }
    assert knowledge.payload == {
        "source_key": BUSINESS_KEY,
        "source_process": "incident",
        "title": "邮件系统无法登录",
        "body": "重启认证服务可临时恢复",
        "category": "application",
    }


# ---------------------------------------------------------------- waiting for a change


def test_change_succeeds_and_the_requester_confirms(package, replies):
    """The awaited change succeeds: the requester confirms, the desk closes."""
    walk = waiting_for_change(package).deliver("change_completed", change_completed("success"))
    task = walk.open_task("confirm_resolution")
    assert task.data["change_result"] == change_completed("success")
    assert task.data["confirmation"] == "pending"
    confirm_and_close(walk)
    assert walk.passed("evaluate_change_outcome") == 1 and walk.passed("investigate_l1") == 1


@pytest.mark.parametrize("outcome", ["failed", "rejected"])
def test_change_failed_or_rejected_goes_back_to_first_line(package, replies, outcome):
    """A failed or rejected change sends it back to first-line investigation, not to confirmation."""
    walk = waiting_for_change(package).deliver("change_completed", change_completed(outcome))
    assert "end_cycle_change_failed" in walk.result.completed_elements
    assert "confirm_resolution" not in walk.result.completed_elements
    task = walk.open_task("investigate_l1")
    assert (
        task.data["change_result"]["outcome"] == outcome and task.data["change_summary"] == "更换证书管理方式"
    )
    walk.do("investigate_l1").do("resolve_l1")  # a fix without a change this time
    confirm_and_close(walk)
    assert passes(walk, "resolution_cycle") == 2 and walk.passed("request_change") == 1


def test_desk_change_fails_then_first_line_resolves(package, replies):
    """The desk's own fix needs a change that fails: the next pass goes to first line, not the desk."""
    walk = Walk(package).start().do("record_incident").do("classify_incident", desk_decision="resolve")
    walk.do("resolve_by_desk", **CHANGE).deliver("change_completed", change_completed("failed"))
    walk.do("investigate_l1").do("resolve_l1")
    confirm_and_close(walk)
    assert walk.passed("resolve_by_desk") == 1


def test_reply_of_another_incident_is_refused(package, replies):
    """change_completed correlates on source_key: a reply for another incident does not reach this one."""
    walk = waiting_for_change(package)
    with pytest.raises(MessageNotAccepted, match="does not correlate"):
        walk.deliver("change_completed", change_completed("success", key="INC-2026-999999"))
    walk.deliver("change_completed", change_completed("success")).open_task("confirm_resolution")


def test_a_reply_to_a_catch_inside_the_loop_is_correlated_with_the_loop_s_request(package):
    """The request thrown inside the loop body sets the values its reply must match."""
    walk = to_l1(Walk(package)).do("investigate_l1").do("resolve_l1", **CHANGE)
    [subscription] = walk.result.subscriptions
    assert subscription.correlation == {"source_key": BUSINESS_KEY}
    walk.deliver("change_completed", change_completed("success"))
