"""continuity_drill.bpmn against spec/processes.md §7 (seed 表 9)."""

from tests.engine.conformance import check_conformance

STEPS = [
    ("analyse_requirements", "需求分析", "continuity_operator"),
    ("draft_contingency_plan", "应急预案制定", "continuity_manager"),
    ("run_drill", "服务连续性演练", "continuity_manager"),
    ("maintain_plan", "预案维护", "continuity_operator"),
]


def test_continuity_drill_follows_the_seed_table():
    check_conformance("continuity_drill", STEPS)
