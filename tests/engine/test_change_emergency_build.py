"""Build, test, back out and implement in processes/change_emergency.bpmn: no time to test, a failed test
with back-out and rebuild, five rebuild passes through the public API and (marked ``slow``) 500 passes: pass 1
and the end through the public API, passes 2-500 in memory (change_emergency_walk.run_in_memory).
"""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from engine import Engine
from tests.engine.change_emergency_walk import (
    ACTORS,
    FROM_CHANGE,
    SHORT,
    TASKS,
    Walk,
    build_and_pass,
    form,
    form_data,
    load_change_emergency,
    rebuild,
    replies,
    reply,
    review_and_close,
    run_in_memory,
)


@pytest.fixture(scope="module")
def package():
    """The process, loaded and linted as the platform loads it (its own file, DMNs from processes/)."""
    return load_change_emergency()


# ---------------------------------------------------------------- build, test, back out, implement


def test_no_time_to_test_implements_untested(package):
    """Time does not allow a test: straight from the build to the implementation (with a reason)."""
    walk = Walk(package).start().do("authorise_emergency_change").do("plan_emergency_change")
    walk.do("build_emergency_change", ec_test_decision="skip", ecb_skip_reason="服务中断，无法等待测试")
    task = walk.open_task("implement_emergency_change")
    assert task.data["ecb_skip_reason"] == "服务中断，无法等待测试"
    review_and_close(walk)
    assert "test_emergency_change" not in walk.result.completed_elements
    assert walk.passed("build_test_start") == 1


def test_skipping_the_test_needs_a_reason():
    """The build form refuses "no test" without a reason."""
    schema = form("change_emergency_build.json")["schema"]
    assert list(
        Draft202012Validator(schema).iter_errors({"ecb_build_notes": "b", "ec_test_decision": "skip"})
    )


def test_failed_test_backs_out_and_builds_again(package):
    """A failed test: back-out plan, then a new build and test, which passes; then the implementation."""
    walk = Walk(package).start().do("authorise_emergency_change").do("plan_emergency_change")
    walk.do("build_emergency_change").do(
        "test_emergency_change", ec_test_result="failed", ect_findings="规则冲突"
    )
    task = walk.open_task("back_out_emergency_change")
    assert task.data["ect_findings"] == "规则冲突" and task.data["ecp_back_out_plan"] == "恢复备份的策略"
    walk.do("back_out_emergency_change")
    task = walk.open_task("build_emergency_change")
    assert task.data["ecbo_notes"] == "已恢复原策略"
    build_and_pass(walk)
    review_and_close(walk)
    assert walk.passed("build_emergency_change") == 2 and walk.passed("test_emergency_change") == 2
    assert walk.passed("back_out_emergency_change") == 1


def test_failed_test_then_no_time_for_another(package):
    """After a failed test and a back-out, the second build goes out untested when time runs out."""
    walk = Walk(package).start().do("authorise_emergency_change").do("plan_emergency_change")
    walk.do("build_emergency_change").do("test_emergency_change", ec_test_result="failed")
    walk.do("back_out_emergency_change", ecbo_state="remediated", ecbo_notes="已执行补救计划")
    walk.do("build_emergency_change", ec_test_decision="skip", ecb_skip_reason="窗口即将结束")
    walk.do(
        "implement_emergency_change",
        eci_result="failed_remediated",
        eci_cis_changed=True,
        eci_changed_cis=["FW-EDGE-01"],
    )
    walk.do("review_emergency_change", ecr_result="failed").do("close_emergency_change").ended(
        "end_implemented"
    )
    assert walk.passed("test_emergency_change") == 1 and walk.passed("build_emergency_change") == 2


def test_rebuild_loop_repeats(package):
    """Five failed tests in a row: each time back out and build again, then the test passes."""
    walk = (
        Walk(package)
        .start_by_message(FROM_CHANGE)
        .do("authorise_emergency_change")
        .do("plan_emergency_change")
    )
    rebuild(walk, 5)
    build_and_pass(walk)
    review_and_close(walk)
    assert walk.passed("back_out_emergency_change") == 5 and walk.passed("build_test_start") == 6
    assert replies(walk) == [reply("implemented")]


@pytest.mark.slow
def test_rebuild_loop_survives_500_passes(package):
    """The build-test-back-out loop is a standard-loop subprocess: 500 failed tests do not stall it.

    Pass 1 and the end go through the public API, passes 2-500 in memory (see ``run_in_memory``).
    """
    walk = Walk(package).start().do("authorise_emergency_change").do("plan_emergency_change")
    rebuild(walk, 1)
    steps = [
        (element, form_data(TASKS[element][1], ACTORS["change_implementer"], {}, SHORT))
        for element in ("build_emergency_change", "test_emergency_change", "back_out_emergency_change")
    ]
    walk._took(Engine().state(package, run_in_memory(package, walk.result.snapshot, 499, steps)))
    build_and_pass(walk)
    review_and_close(walk)
    assert walk.passed("back_out_emergency_change") == 500 and walk.passed("test_emergency_change") == 501
    assert walk.passed("build_test_start") == 501 and walk.messages == []
