"""The loops of processes/release.bpmn (test and rework, re-approval), repeated: five passes through the
public API, and (marked ``slow``) 500 passes: pass 1 and the end through the public API, passes 2-500 in
memory (release_walk.run_in_memory).
"""

from __future__ import annotations

import pytest

from engine import Engine
from tests.engine.release_walk import (
    FROM_CHANGE,
    Walk,
    approved,
    carried_out,
    load_release,
    reapprove,
    replies,
    reply,
    retest,
    run_in_memory,
    short_steps,
)


@pytest.fixture(scope="module")
def package():
    """The process, loaded and linted as the platform loads it (its own file, DMNs from processes/)."""
    return load_release()


# ---------------------------------------------------------------- loops, many times


def test_test_loop_repeats(package):
    """Five failed tests in a row, then a pass: the release goes on to approval."""
    walk = retest(Walk(package).start_by_message(FROM_CHANGE).do("plan_release"), 5)
    approved(walk)
    carried_out(walk)
    assert walk.passed("revise_release") == 5 and walk.passed("release_test_start") == 6
    assert replies(walk) == [reply("released")]


def test_approval_loop_repeats(package):
    """Five re-approvals in a row, then a rollout plan that needs none."""
    walk = reapprove(Walk(package).start().do("test_release"), 5)
    walk.do("approve_release").do("implement_release")
    carried_out(walk)
    assert walk.passed("reapproval_requested") == 5 and walk.passed("approval_start") == 6


@pytest.mark.slow
def test_test_loop_survives_500_passes(package):
    """The test-and-rework loop is a standard-loop subprocess: 500 failed tests do not stall it.

    Pass 1 and the end go through the public API, passes 2-500 in memory (see ``run_in_memory``).
    """
    walk = retest(Walk(package).start(), 1)
    steps = short_steps("test_release", "revise_release")
    walk._took(Engine().state(package, run_in_memory(package, walk.result.snapshot, 499, steps)))
    approved(walk)
    carried_out(walk)
    assert walk.passed("revise_release") == 500 and walk.passed("test_release") == 501
    assert walk.messages == []


@pytest.mark.slow
def test_approval_loop_survives_500_passes(package):
    """The approval loop is a standard-loop subprocess: 500 re-approvals do not stall it.

    Pass 1 and the end go through the public API, passes 2-500 in memory (see ``run_in_memory``).
    """
    walk = reapprove(Walk(package).start().do("test_release"), 1)
    steps = short_steps("approve_release", "implement_release")
    walk._took(Engine().state(package, run_in_memory(package, walk.result.snapshot, 499, steps)))
    walk.do("approve_release").do("implement_release")
    carried_out(walk)
    assert walk.passed("reapproval_requested") == 500 and walk.passed("approve_release") == 501
    assert walk.messages == []
