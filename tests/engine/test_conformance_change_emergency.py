"""change_emergency.bpmn against spec/processes.md §4 (seed 表 5).

The seed names the change management process itself as responsible for step 1: change assessment hands an
emergency over (the message start event). A request raised by hand is the change analyst's start task.
"""

from tests.engine.conformance import check_conformance

STEPS = [
    ("request_emergency_change", "紧急变更申请", "change_analyst"),
    ("authorise_emergency_change", "紧急变更授权", "ecab"),
    ("plan_emergency_change", "制订变更计划", "change_manager"),
    ("implement_emergency_change", "紧急变更实施", "change_implementer"),
    ("review_emergency_change", "紧急变更评审", "cab"),
    ("close_emergency_change", "紧急变更关闭", "change_manager"),
]


def test_change_emergency_follows_the_seed_table():
    check_conformance("change_emergency", STEPS)
