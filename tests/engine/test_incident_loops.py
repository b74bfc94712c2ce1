"""The loops of processes/incident.bpmn, each repeated 500 times (marked ``slow``).

The passes run in memory (fast_forward.FastForward); the instance is then checked with the public API and
SpiffWorkflow as shipped, which is where a stalled loop would show.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.fast_forward import FastForward
from tests.engine.incident_walk import (
    BUSINESS_KEY,
    CHANGE,
    Walk,
    change_completed,
    escalate,
    load_incident,
    to_l1,
    unresolved_at_l3,
    waiting_for_change,
)


@pytest.fixture(scope="module")
def package():
    """The incident process, loaded once for the module."""
    return load_incident()


@pytest.fixture
def replies():
    """Replies to catches inside the loop subprocess (engine/ correlates them with the loop's request)."""


# ---------------------------------------------------------------- 500 passes of each loop

REPEAT = 500
NOT_RESOLVED = {"confirmation": "not_resolved", "satisfaction": "dissatisfied", "feedback": "仍然无法登录"}


def still_open(forward: FastForward, element_id: str) -> None:
    """After the passes, SpiffWorkflow as shipped and a fresh Engine both still find the next task."""
    assert forward.open_tasks() == [element_id]
    assert [t.element_id for t in forward.state().open_tasks] == [element_id]


def closed(forward: FastForward) -> Any:
    """The instance ended at end_closed (checked by a fresh Engine); returns its state."""
    state = forward.state()
    assert state.status == "completed" and state.open_tasks == []
    assert [e for e in state.completed_elements if e in Walk.ENDS] == ["end_closed"]
    return state


@pytest.mark.slow
def test_requester_not_satisfied_500_times(package):
    """The resolution cycle repeats 500 times (first line, every time) and the incident still closes."""
    walk = to_l1(Walk(package))
    data = {
        "investigate_l1": walk.form_data("incident_investigate_l1.json", "l1", {}),
        "resolve_l1": walk.form_data("incident_resolve_l1.json", "l1", {}),
        "confirm_resolution": walk.form_data("incident_confirm.json", "alice", NOT_RESOLVED),
        "close_incident": walk.form_data("incident_close.json", "desk", {}),
    }
    with FastForward(package, walk.result.snapshot) as forward:
        for _ in range(REPEAT):
            for element in ("investigate_l1", "resolve_l1", "confirm_resolution"):
                forward.do(element, data[element])
    still_open(forward, "investigate_l1")
    forward.do("investigate_l1", data["investigate_l1"])
    forward.do("resolve_l1", data["resolve_l1"])
    forward.do("confirm_resolution", {**data["confirm_resolution"], "confirmation": "confirmed"})
    forward.do("close_incident", data["close_incident"])
    state = closed(forward)
    assert state.completed_elements.count("confirm_resolution") == REPEAT + 1
    assert state.completed_elements.count("end_cycle_reopened") == REPEAT


@pytest.mark.slow
def test_manager_sends_back_to_third_line_500_times(package):
    """Third line and the incident manager's review repeat 500 times; then the manager closes it."""
    walk = unresolved_at_l3(Walk(package))
    review = walk.form_data("incident_manager_review.json", "im", {})
    investigate = walk.form_data("incident_investigate_l3.json", "vendor", escalate("l3", "unresolved"))
    with FastForward(package, walk.result.snapshot) as forward:
        for _ in range(REPEAT):
            forward.do("review_unresolved", review)
            forward.do("investigate_l3", investigate)
    still_open(forward, "review_unresolved")
    forward.do("review_unresolved", {**review, "manager_decision": "close_unresolved"})
    forward.do(
        "close_incident", walk.form_data("incident_close.json", "desk", {"closure_code": "unresolved"})
    )
    state = closed(forward)
    assert state.completed_elements.count("review_unresolved") == REPEAT + 1
    assert state.completed_elements.count("end_l3_reinvestigate") == REPEAT


@pytest.mark.slow
def test_awaited_change_fails_500_times(package, replies):
    """The change the incident waits for fails 500 times: back to first line every time; then it succeeds."""
    walk = waiting_for_change(package)
    for _ in range(2):  # through the public API first: reply, back to first line, RFC again
        walk.deliver("change_completed", change_completed("failed"))
        walk.do("investigate_l1").do("resolve_l1", **CHANGE)
    investigate = walk.form_data("incident_investigate_l1.json", "l1", {})
    resolve = walk.form_data("incident_resolve_l1.json", "l1", CHANGE)
    with FastForward(package, walk.result.snapshot) as forward:
        for _ in range(REPEAT - 2):
            forward.deliver("change_completed", change_completed("failed"))
            forward.do("investigate_l1", investigate)
            forward.do("resolve_l1", resolve)
    state = forward.state()
    assert [(s.element_id, s.correlation) for s in state.subscriptions] == [
        ("wait_change", {"source_key": BUSINESS_KEY})
    ]
    forward.deliver("change_completed", change_completed("success"))
    forward.do("confirm_resolution", walk.form_data("incident_confirm.json", "alice", {}))
    forward.do("close_incident", walk.form_data("incident_close.json", "desk", {}))
    state = closed(forward)
    assert state.completed_elements.count("request_change") == REPEAT + 1
    assert state.completed_elements.count("end_cycle_change_failed") == REPEAT
