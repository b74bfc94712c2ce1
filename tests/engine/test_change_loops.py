"""The loops of processes/change.bpmn, repeated: 20 rounds through the public API, then 500 in memory.

The 500-repetition tests drive the instance in memory between two snapshots (change_walk.InMemory), through
the engine's own snapshot, loader and script engine modules (and the process's scripts in this process):
through the public API every command rewrites the snapshot, which takes 15 s and more for 500 rounds. They
start and finish through the Engine API, so the 500-round snapshot is restored and run on.
"""

from __future__ import annotations

import pytest

from tests.engine.change_walk import (
    KEY,
    ROUNDS,
    InMemory,
    Walk,
    approved_minor,
    implement_to_end,
    load_change,
    rejected,
    resume,
    review_and_close,
)


@pytest.fixture(scope="module")
def package():
    """The change process, loaded and linted like the platform loads it."""
    return load_change()


# -------------------------------------------------------------------------- rejected by other processes


def test_emergency_rejected_repeatedly(package):
    """The ECAB rejects the RFC 20 times (the assessment loop repeats): reassessment still works."""
    walk = Walk(package).start()
    for n in range(20):
        walk.do("assess_change", urgency="critical")
        walk.deliver("emergency_change_completed", source_key=KEY, change_key=f"E{n}", outcome="rejected")
    walk.do("assess_change").do("approve_change")
    walk.open_task("schedule_tasks")
    assert walk.passed("request_emergency_change") == 20


def test_release_rejected_repeatedly(package):
    """The release is rejected 20 times (the implementation loop repeats): re-planning still works."""
    walk = approved_minor(Walk(package))
    for n in range(20):
        walk.do("schedule_tasks").do("implement_change", needs_release=True, release_scope="OS 8")
        walk.deliver("release_completed", source_key=KEY, release_key=f"R{n}", outcome="rejected")
    walk.do("schedule_tasks").do("implement_change")
    review_and_close(walk)
    assert walk.passed("schedule_tasks") == 21


# --------------------------------------------------------------------------------- 500 repetitions


def test_rfc_returned_500_times(package):
    """The requester completes the RFC 500 times (standard loop RFC完整性检查); then it is accepted."""
    walk = Walk(package).start()
    memory = InMemory(package, walk.result.snapshot)
    for _ in range(ROUNDS):
        memory.do("assess_change", rfc_check="returned", rfc_return_reason="请补充")
        memory.do("complete_rfc")
    resume(walk, memory)
    walk.do("assess_change").do("approve_change")
    walk.open_task("schedule_tasks")
    assert walk.passed("complete_rfc") == ROUNDS and walk.passed("assess_change") == ROUNDS + 1


def test_manager_rejects_500_times(package):
    """The change manager rejects 500 times (standard loop 变更评估与审批); then approves."""
    walk = Walk(package).start()
    memory = InMemory(package, walk.result.snapshot)
    for _ in range(ROUNDS):
        memory.do("assess_change")
        memory.do("approve_change", manager_decision="reject")
    assert memory.open() == ["assess_change"]
    resume(walk, memory)
    walk.do("assess_change").do("approve_change").do("schedule_tasks")
    walk.open_task("implement_change")
    assert walk.passed("approve_change") == ROUNDS + 1


def test_cab_rejects_500_times(package):
    """The CAB rejects and the change manager reworks 500 times (standard loop CAB审批循环); then approved."""
    walk = Walk(package).start().do("assess_change", impact="high")
    memory = InMemory(package, walk.result.snapshot)
    for _ in range(ROUNDS):
        memory.do("convene_cab", cab_members=["cab3"])
        memory.do("cab_approve", **rejected())
        memory.do("rework_change")
    assert memory.open() == ["convene_cab"]
    resume(walk, memory)
    walk.do("convene_cab", cab_members=["cab1", "cab2"]).vote("approve", "approve")
    assert walk.result.data["cab_result"] == "approved"
    walk.open_task("schedule_tasks")
    assert walk.passed("tally_cab_votes") == ROUNDS + 1 and walk.passed("rework_change") == ROUNDS


def test_handover_missing_500_times(package):
    """The handover is incomplete 500 times (standard loop 变更关闭（交接）); then the change closes."""
    walk = approved_minor(Walk(package))
    implement_to_end(walk)
    walk.do("review_change")
    memory = InMemory(package, walk.result.snapshot)
    for _ in range(ROUNDS):
        memory.do("close_change", handover_complete=False, handover_missing="文档", closure_notes=None)
    resume(walk, memory)
    walk.do("close_change").ended("end_closed")
    assert walk.passed("close_change") == ROUNDS + 1


def test_ecab_rejects_500_times(package):
    """The ECAB rejects 500 times (standard loop 变更评估与审批, a reply inside it); then the normal way."""
    walk = Walk(package).start()
    memory = InMemory(package, walk.result.snapshot)
    for n in range(ROUNDS):
        memory.do("assess_change", urgency="critical")
        memory.deliver("emergency_change_completed", source_key=KEY, change_key=f"E{n}", outcome="rejected")
    resume(walk, memory)
    assert [s.name for s in walk.result.subscriptions] == []
    walk.do("assess_change", urgency="critical")
    assert walk.result.subscriptions[0].correlation == {"source_key": KEY}
    walk.deliver("emergency_change_completed", source_key=KEY, change_key="E", outcome="implemented")
    walk.do("close_change").ended("end_closed")
    assert walk.passed("request_emergency_change") == ROUNDS + 1


def test_release_rejected_500_times(package):
    """The release is rejected 500 times (standard loop 实施与发布, a reply inside it); then released."""
    walk = approved_minor(Walk(package))
    memory = InMemory(package, walk.result.snapshot)
    for n in range(ROUNDS):
        memory.do("schedule_tasks")
        memory.do("implement_change", needs_release=True, release_scope="OS 8")
        memory.deliver("release_completed", source_key=KEY, release_key=f"R{n}", outcome="rejected")
    resume(walk, memory)
    walk.do("schedule_tasks").do("implement_change", needs_release=True, release_scope="OS 8")
    walk.deliver("release_completed", source_key=KEY, release_key="R", outcome="released")
    review_and_close(walk)
    assert walk.passed("schedule_tasks") == ROUNDS + 1
