"""The CAB of processes/change.bpmn: a vote task per member, cab_decision.dmn's rules, rework, withdrawal.

Walked task by task through engine/ with change_walk.Walk (every snapshot restored on a fresh Engine).
"""

from __future__ import annotations

import pytest

from tests.engine.change_walk import (
    CAB,
    Walk,
    implement_to_end,
    load_change,
    major,
    rejected,
    review_and_close,
)


@pytest.fixture(scope="module")
def package():
    """The change process, loaded and linted like the platform loads it."""
    return load_change()


# ----------------------------------------------------------------------------------------- the CAB


@pytest.mark.parametrize(
    ("rule", "votes", "result", "counts"),
    [
        ("majority", ["approve"] * 3 + [rejected()] * 2, "approved", (3, 2, 0)),
        ("unanimous", ["approve"] * 3 + [rejected()] * 2, "rejected", (3, 2, 0)),
        ("any_veto", ["approve"] * 4 + [rejected()], "rejected", (4, 1, 0)),
        ("any_veto", ["approve"] * 4 + [rejected("abstain")], "approved", (4, 0, 1)),
        ("unanimous", ["approve"] * 4 + [rejected("abstain")], "rejected", (4, 0, 1)),
        ("unanimous", ["approve"] * 5, "approved", (5, 0, 0)),
        ("majority", ["approve"] * 2 + [rejected()] + [rejected("abstain")] * 2, "rejected", (2, 1, 2)),
        ("any_veto", [rejected("abstain")] * 5, "rejected", (0, 0, 5)),
    ],
    ids=[
        "majority-3-of-5",
        "unanimous-3-of-5",
        "any_veto-one-reject",
        "any_veto-one-abstains",
        "unanimous-one-abstains",
        "unanimous-5-of-5",
        "majority-2-of-5",
        "any_veto-all-abstain",
    ],
)
def test_cab_vote_decided_by_the_rule(package, rule, votes, result, counts):
    """Every member votes (one task each, offered to that member); cab_decision.dmn applies the rule."""
    walk = major(Walk(package), rule=rule)
    ballots = walk.tasks("cab_approve")
    assert [t.data["voter"] for t in ballots] == CAB
    assert all(t.data["cab_decision_rule"] == rule for t in ballots)
    walk.vote(*votes)
    data = walk.result.data
    assert data["cab_result"] == result
    assert (data["cab_approvals"], data["cab_rejections"], data["cab_abstentions"]) == counts
    assert data["cab_vote_total"] == 5 and data["cab_votes"] == []
    assert data["cab_vote_record"].startswith("cab1: ")
    walk.open_task("schedule_tasks" if result == "approved" else "rework_change")


def test_cab_approved_major_change_to_the_end(package):
    """A major change approved by the CAB is scheduled, implemented, reviewed (by the CAB) and closed."""
    walk = major(Walk(package)).vote("approve", "approve", "approve", rejected(), "approve")
    implement_to_end(walk)
    review_and_close(walk, review_body="cab", cab_review_opinion="CAB确认成功")
    assert walk.result.data["review_body"] == "cab"


def test_cab_rejection_reworked_and_revoted_by_a_smaller_cab(package):
    """Rejected: the change manager reworks and resubmits; a newly convened CAB (fewer members) approves."""
    walk = major(Walk(package), rule="unanimous").vote("approve", "approve", "approve", rejected(), "approve")
    task = walk.open_task("rework_change")
    assert task.data["cab_result"] == "rejected"
    walk.do("rework_change")
    task = walk.open_task("convene_cab")
    assert task.data["rework_summary"] == "按CAB意见分批实施"
    walk.do("convene_cab", cab_members=["cab2", "cab4"], cab_decision_rule="majority")
    assert [t.data["voter"] for t in walk.tasks("cab_approve")] == ["cab2", "cab4"]
    walk.vote("approve", "approve")
    assert (walk.result.data["cab_result"], walk.result.data["cab_vote_total"]) == ("approved", 2)
    assert walk.result.data["cab_vote_record"] == "cab2: approve; cab4: approve"
    walk.open_task("schedule_tasks")
    assert walk.passed("convene_cab") == 2 and walk.passed("rework_change") == 1


def test_cab_rejection_withdrawn_ends_rejected(package):
    """Rejected and withdrawn: the change ends rejected."""
    walk = major(Walk(package), members=["cab1", "cab2", "cab3"]).vote(rejected(), rejected(), "approve")
    walk.do("rework_change", cab_rework="withdraw", withdraw_reason="改为采购新设备", change_plan=None)
    walk.ended("end_rejected")
    assert "schedule_tasks" not in walk.result.completed_elements
