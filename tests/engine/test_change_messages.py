"""processes/change.bpmn and the other processes: emergency changes and changes other processes ask for.

The request to the emergency process and its reply, and changes started by change_requested (incident,
problem) with the change_completed they are told; walked with change_walk.Walk, messages checked by name,
payload and correlation.
"""

from __future__ import annotations

import pytest

from engine import MessageNotAccepted
from tests.engine.change_walk import (
    INCIDENT,
    KEY,
    RFC,
    Walk,
    implement_to_end,
    load_change,
    rejected,
    review_and_close,
)


@pytest.fixture(scope="module")
def package():
    """The change process, loaded and linted like the platform loads it."""
    return load_change()


# --------------------------------------------------------------------------------------- emergency


def test_emergency_change_round_trip_implemented(package):
    """Emergency: the request goes to the emergency process; its reply (implemented) leads to closing."""
    walk = Walk(package).start().do("assess_change", urgency="critical")
    sent = walk.message("emergency_change_requested")
    assert sent.correlation == {"source_key": KEY}
    assert sent.payload == {
        "source_key": KEY,
        "source_process": "change",
        "title": RFC["title"],
        "description": RFC["description"],
        "affected_cis": RFC["affected_cis"],
    }
    [waiting] = walk.result.subscriptions
    assert (waiting.element_id, waiting.name, waiting.correlation) == (
        "emergency_change_done",
        "emergency_change_completed",
        {"source_key": KEY},
    )
    with pytest.raises(MessageNotAccepted):
        walk.deliver("emergency_change_completed", source_key="CHG-2026-999999", outcome="implemented")
    walk.deliver("emergency_change_completed", source_key=KEY, change_key="ECHG-1", outcome="implemented")
    assert walk.result.data["emergency_result"]["change_key"] == "ECHG-1"
    walk.do("close_change").ended("end_closed")
    for skipped in ("approve_change", "schedule_tasks", "implement_change", "review_change"):
        assert skipped not in walk.result.completed_elements


def test_emergency_change_rejected_goes_back_to_assessment(package):
    """The ECAB rejects: back to the analyst, who reassesses; then the normal way."""
    walk = Walk(package).start().do("assess_change", urgency="critical")
    walk.deliver("emergency_change_completed", source_key=KEY, change_key="ECHG-1", outcome="rejected")
    task = walk.open_task("assess_change")
    assert task.data["emergency_result"]["outcome"] == "rejected"
    walk.do("assess_change", urgency="high").do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)
    assert walk.passed("request_emergency_change") == 1


# --------------------------------------------------------------------------------- other processes


def test_change_from_an_incident_tells_it_the_outcome(package):
    """Started by change_requested: assessed like any RFC; at close the incident gets change_completed."""
    walk = Walk(package).start_by_message()
    task = walk.open_task("assess_change")
    assert (task.data["source_key"], task.data["source_process"]) == (INCIDENT, "incident")
    assert task.data["title"] == RFC["title"]
    walk.do("assess_change").do("approve_change")
    implement_to_end(walk)
    review_and_close(walk)
    sent = walk.message("change_completed")
    assert sent.correlation == {"source_key": INCIDENT}
    assert sent.payload == {"source_key": INCIDENT, "change_key": KEY, "outcome": "success"}


def test_failed_change_from_a_problem_reports_failed(package):
    """The review found the change failed: the problem is told outcome failed."""
    walk = Walk(package).start_by_message(source_key="PRB-2026-000003", source_process="problem")
    walk.do("assess_change").do("approve_change").do("schedule_tasks")
    walk.do("implement_change", implementation_result="failed", backout_performed=True)
    review_and_close(walk, review_result="failed")
    assert walk.message("change_completed").payload == {
        "source_key": "PRB-2026-000003",
        "change_key": KEY,
        "outcome": "failed",
    }


def test_rejected_change_from_an_incident_tells_it_rejected(package):
    """The analyst rejects an RFC another process sent: it is told outcome rejected."""
    walk = Walk(package).start_by_message()
    walk.do(
        "assess_change", rfc_check="rejected", rfc_reject_category="impractical", rfc_reject_reason="不可行"
    )
    walk.ended("end_rejected")
    assert walk.message("change_completed").payload == {
        "source_key": INCIDENT,
        "change_key": KEY,
        "outcome": "rejected",
    }


def test_withdrawn_change_from_an_incident_tells_it_rejected(package):
    """Withdrawn after the CAB's rejection: outcome rejected too."""
    walk = Walk(package).start_by_message()
    walk.do("assess_change", impact="high").do("convene_cab", cab_members=["cab1"]).vote(rejected())
    walk.do("rework_change", cab_rework="withdraw", withdraw_reason="撤回")
    walk.ended("end_rejected")
    assert walk.message("change_completed").payload["outcome"] == "rejected"


def test_emergency_change_from_an_incident_reports_success(package):
    """Implemented by the emergency process: the incident is told success, on this change's key."""
    walk = Walk(package).start_by_message().do("assess_change", urgency="critical")
    assert walk.message("emergency_change_requested").payload["source_key"] == KEY
    walk.deliver("emergency_change_completed", source_key=KEY, change_key="ECHG-9", outcome="implemented")
    walk.do("close_change").ended("end_closed")
    sent = walk.message("change_completed")
    assert sent.payload == {"source_key": INCIDENT, "change_key": KEY, "outcome": "success"}


def test_message_start_without_submit_form(package):
    """The message start never completes the requester's start task; the RFC comes from the payload."""
    walk = Walk(package).start_by_message(affected_cis=["SRV-MAIL-01", "DB-MAIL-01", "NET-CORE-01"])
    assert walk.result.completed_elements[:3] == ["change_requested", "join_start", "register_origin"]
    assert walk.open_task("assess_change").data["affected_cis"] == [
        "SRV-MAIL-01",
        "DB-MAIL-01",
        "NET-CORE-01",
    ]
