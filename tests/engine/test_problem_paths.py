"""Every path of processes/problem.bpmn, walked task by task through engine/ (no Flask).

The walker is problem_walk.ProblemWalk, incident_walk.Walk with this process's lanes, tasks, actors and form
data: each command takes the snapshot the previous one returned, and after every command a fresh Engine
restores it and must see the same instance. At every step the test checks which task is open, in which lane
and role, with which form; at the end, which end event was reached and which messages left the instance
(name, payload, correlation). The solution cycle (changes, failed fixes, 500 passes) is in
test_problem_solution_cycle.py.

The two ways in: the start task 提出问题请求 (a proactive problem, by the problem manager) and the message
problem_requested from an incident (the platform starts the instance with the payload as data, then delivers
the message). Only the second is answered with problem_closed.
"""

from __future__ import annotations

import pytest

from tests.engine.incident_walk import NOW, load_process
from tests.engine.problem_walk import (
    BASE,
    FROM_INCIDENT,
    INCIDENT_KEY,
    LANES,
    PROBLEM_KEY,
    TASKS,
    ProblemWalk,
    passes,
    to_solution,
)


@pytest.fixture(scope="module")
def package():
    """The problem process, loaded once for the module."""
    return load_process("problem")


# ---------------------------------------------------------------- the package


def test_package_lanes_tasks_and_properties(package):
    """Both ways in, every lane's role, each user task's role and form, the platform properties."""
    assert (package.process_id, package.name) == ("problem", "问题管理")
    assert package.start_task == "propose_problem"
    assert package.start_messages == ("problem_requested",)
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"problem.bpmn"}
    props = package.element_properties
    assert props["investigate_problem"]["assignee"] == "assigned_expert"
    assert props["implement_solution"]["assignee"] == "assigned_expert"
    assert props["assign_experts"]["notifyTo"] == "user:assigned_expert"
    assert props["record_known_error"]["notifyTo"] == "service_desk"
    for element in ("end_implementation_failed", "end_change_failed", "end_solution_reopened", "end_closed"):
        assert props[element]["notifyTo"] == "problem_manager" and props[element]["notifyText"]
    assert not any("separateFrom" in p for p in props.values())


# ---------------------------------------------------------------- proactive problems


def test_proactive_problem_resolved_by_the_expert(package):
    """By hand: recorded, graded, assigned, root cause found (known error), implemented, closed; no reply."""
    walk = ProblemWalk(package).start()
    task = walk.open_task("record_problem")
    assert task.data["source_process"] == "proactive" and task.data["sys_started_by"] == "pm"
    walk.do("record_problem").do("classify_problem")
    assert walk.open_task("assign_experts").data["problem_severity"] == "high"
    walk.do("assign_experts")
    task = walk.open_task("investigate_problem")
    assert task.data["assigned_expert"] == "expert1"
    walk.do("investigate_problem")
    assert "record_known_error" in walk.result.completed_elements
    for key in ("title", "symptoms", "affected_cis", "root_cause", "workaround"):  # the known error's fields
        assert (
            walk.result.data[key] == {**BASE["problem_record.json"], **BASE["problem_investigate.json"]}[key]
        )
    walk.do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    assert walk.sent == []
    assert "notify_incident" not in walk.result.completed_elements
    assert passes(walk, "solution_cycle") == 1


@pytest.mark.parametrize("source", ["trend_analysis", "major_incident_review"])
def test_other_proactive_sources_send_no_reply(package, source):
    """A problem from trend analysis or a major incident review is proactive too: no problem_closed."""
    walk = ProblemWalk(package).start(source_process=source)
    to_solution(walk).do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    assert walk.sent == []


def test_proactive_problem_not_accepted(package):
    """The problem manager does not accept it: it ends without a message."""
    walk = (
        ProblemWalk(package).start().do("record_problem", problem_accepted=False, not_accepted_reason="重复")
    )
    walk.ended("end_not_accepted")
    assert walk.sent == [] and "classify_problem" not in walk.result.completed_elements


def test_root_cause_not_found_goes_on_to_evaluation(package):
    """No root cause: no known error; the manager evaluates a solution from the diagnosis so far."""
    walk = to_solution(ProblemWalk(package).start(), root_cause_found=False, root_cause=None, workaround=None)
    assert "record_known_error" not in walk.result.completed_elements
    walk.do("evaluate_solution", solution="增加监控并定期重启").do("implement_solution").do("close_problem")
    walk.ended("end_closed")


# ---------------------------------------------------------------- problems from incidents


def test_from_incident_closed_tells_the_incident(package):
    """problem_requested starts it with the incident's data; closing sends problem_closed to that incident."""
    walk = ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT)
    assert walk.result.completed_elements[:2] == ["problem_requested_start", "join_start"]
    task = walk.open_task("record_problem")
    for key, value in FROM_INCIDENT.items():
        assert task.data[key] == value
    assert task.data["sys_started_by"] == "system" and task.data["sys_started_at"] == NOW
    to_solution(walk).do("evaluate_solution").do("implement_solution")
    walk.do("close_problem", problem_resolution="证书轮换脚本已修复，已验证").ended("end_closed")
    [message] = walk.sent
    assert (message.name, message.correlation, message.payload) == (
        "problem_closed",
        {"source_key": INCIDENT_KEY},
        {"source_key": INCIDENT_KEY, "problem_key": PROBLEM_KEY, "resolution": "证书轮换脚本已修复，已验证"},
    )


def test_from_incident_not_accepted_tells_the_incident(package):
    """Not accepted as a problem: the incident is told why, with problem_closed."""
    walk = ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT)
    walk.do("record_problem", problem_accepted=False, not_accepted_reason="与 PRB-2026-000001 重复")
    walk.ended("end_not_accepted")
    [message] = walk.sent
    assert (message.name, message.payload) == (
        "problem_closed",
        {
            "source_key": INCIDENT_KEY,
            "problem_key": PROBLEM_KEY,
            "resolution": "未确认为问题：与 PRB-2026-000001 重复",
        },
    )


def test_from_another_process_is_answered_too(package):
    """The service level review asks for a problem as well: it gets problem_closed like an incident."""
    request = {**FROM_INCIDENT, "source_key": "SLR-2026-000003", "source_process": "sla_review"}
    walk = to_solution(ProblemWalk(package).start_by_message("problem_requested", request))
    walk.do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    [message] = walk.sent
    assert (message.name, message.payload["source_key"]) == ("problem_closed", "SLR-2026-000003")


def test_knowledge_proposed_at_closure(package):
    """The desk proposes the resolution to the knowledge base: knowledge_submitted after problem_closed."""
    walk = to_solution(ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT))
    walk.do("evaluate_solution").do("implement_solution")
    walk.do(
        "close_problem",
        propose_knowledge=True,
        knowledge_category="application",
        knowledge_body="中间证书缺失导致认证失败；修复轮换脚本",
    ).ended("end_closed")
    assert [m.name for m in walk.sent] == ["problem_closed", "knowledge_submitted"]
    knowledge = walk.sent[1]
    assert (knowledge.correlation, knowledge.payload) == (
        {"source_key": PROBLEM_KEY},
        {
            "source_key": PROBLEM_KEY,
            "source_process": "problem",
            "title": "认证服务间歇性失败",
            "body": "中间证书缺失导致认证失败；修复轮换脚本",
            "category": "application",
        },
    )
