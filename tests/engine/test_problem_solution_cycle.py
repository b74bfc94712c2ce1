"""The solution cycle of processes/problem.bpmn: a change and its outcome, a failed fix, a closure the desk
cannot confirm; each goes back to solution evaluation, 500 times in the slow test.

Walked with problem_walk.ProblemWalk (incident_walk.Walk for problem.bpmn); the 500 passes run in memory
(fast_forward.FastForward).
"""

from __future__ import annotations

import pytest

from engine import MessageNotAccepted
from tests.engine.fast_forward import FastForward
from tests.engine.incident_walk import load_process
from tests.engine.problem_walk import (
    CHANGE,
    FROM_INCIDENT,
    INCIDENT_KEY,
    ProblemWalk,
    change_completed,
    passes,
    to_solution,
    waiting_for_change,
)


@pytest.fixture(scope="module")
def package():
    """The problem process, loaded once for the module."""
    return load_process("problem")


@pytest.fixture
def replies():
    """Replies to catches inside the loop subprocess (engine/ correlates them with the loop's request)."""


# ---------------------------------------------------------------- the solution cycle


def test_change_succeeds_then_the_desk_closes(package, replies):
    """Solved by a change: after change_completed (success) the service desk confirms and closes."""
    walk = waiting_for_change(ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT))
    walk.deliver("change_completed", change_completed("success"))
    assert walk.open_task("close_problem").data["change_result"] == change_completed("success")
    walk.do("close_problem").ended("end_closed")
    assert "implement_solution" not in walk.result.completed_elements
    assert [m.name for m in walk.sent] == ["change_requested", "problem_closed"]


@pytest.mark.parametrize("outcome", ["failed", "rejected"])
def test_change_failed_or_rejected_goes_back_to_evaluation(package, replies, outcome):
    """A failed or rejected change: back to solution evaluation, which then chooses the expert's fix."""
    walk = waiting_for_change(ProblemWalk(package).start())
    walk.deliver("change_completed", change_completed(outcome))
    assert "end_change_failed" in walk.result.completed_elements
    task = walk.open_task("evaluate_solution")
    assert task.data["change_result"]["outcome"] == outcome
    walk.do("evaluate_solution", solution="先由专家临时修复").do("implement_solution").do("close_problem")
    walk.ended("end_closed")
    assert passes(walk, "solution_cycle") == 2


def test_reply_of_another_record_is_refused(package, replies):
    """change_completed correlates on source_key: a reply meant for another record does not reach this one."""
    walk = waiting_for_change(ProblemWalk(package).start())
    with pytest.raises(MessageNotAccepted, match="does not correlate"):
        walk.deliver("change_completed", change_completed("success", key=INCIDENT_KEY))


def test_implementation_failed_goes_back_to_evaluation(package):
    """The expert's implementation does not work: back to solution evaluation."""
    walk = to_solution(ProblemWalk(package).start()).do("evaluate_solution")
    walk.do("implement_solution", implementation_result="failed", implementation_notes="重启后仍失败")
    assert "end_implementation_failed" in walk.result.completed_elements
    assert walk.open_task("evaluate_solution").data["implementation_notes"] == "重启后仍失败"
    walk.do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    assert walk.passed("implement_solution") == 2


def test_desk_cannot_confirm_goes_back_to_evaluation(package):
    """The service desk cannot confirm the problem is resolved: back to solution evaluation."""
    walk = to_solution(ProblemWalk(package).start()).do("evaluate_solution").do("implement_solution")
    walk.do(
        "close_problem",
        closure_confirmed=False,
        closure_feedback="同类事件仍在发生",
        problem_resolution=None,
        closure_code=None,
    )
    assert "end_solution_reopened" in walk.result.completed_elements
    assert walk.open_task("evaluate_solution").data["closure_feedback"] == "同类事件仍在发生"
    walk.do("evaluate_solution").do("implement_solution").do("close_problem").ended("end_closed")
    assert walk.passed("close_problem") == 2


@pytest.mark.slow
def test_solution_cycle_500_times(package, replies):
    """Evaluation, implementation, closure repeat 500 times (failed changes, failed fixes, not confirmed)."""
    walk = to_solution(ProblemWalk(package).start_by_message("problem_requested", FROM_INCIDENT))

    evaluate = walk.form_data("problem_evaluate.json", "pm", {})
    change = walk.form_data("problem_evaluate.json", "pm", CHANGE)
    failed = walk.form_data("problem_implement.json", "expert1", {"implementation_result": "failed"})
    done = walk.form_data("problem_implement.json", "expert1", {})
    not_confirmed = walk.form_data(
        "problem_close.json",
        "desk",
        {
            "closure_confirmed": False,
            "closure_feedback": "仍有事件",
            "problem_resolution": None,
            "closure_code": None,
        },
    )
    with FastForward(package, walk.result.snapshot) as forward:
        for n in range(500):
            if n % 3 == 0:
                forward.do("evaluate_solution", change)
                forward.deliver("change_completed", change_completed("failed" if n % 2 else "rejected"))
            elif n % 3 == 1:
                forward.do("evaluate_solution", evaluate)
                forward.do("implement_solution", failed)
            else:
                forward.do("evaluate_solution", evaluate)
                forward.do("implement_solution", done)
                forward.do("close_problem", not_confirmed)
    assert forward.open_tasks() == ["evaluate_solution"]
    assert [t.element_id for t in forward.state().open_tasks] == ["evaluate_solution"]
    forward.do("evaluate_solution", evaluate)
    forward.do("implement_solution", done)
    forward.do("close_problem", walk.form_data("problem_close.json", "desk", {}))
    state = forward.state()
    assert state.status == "completed"
    assert state.completed_elements.count("evaluate_solution") == 501
    assert state.completed_elements.count("end_change_failed") == 167
    assert forward.sent == ["change_requested"] * 167 + ["problem_closed"]
