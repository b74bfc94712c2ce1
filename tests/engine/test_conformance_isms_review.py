"""isms_review.bpmn against spec/processes.md §8 (seed 表 10)."""

from tests.engine.conformance import check_conformance

STEPS = [
    ("establish_isms", "建立信息安全管理体系", "security_manager"),
    ("assess_risks", "风险评估和管理", "security_operator"),
    ("operate_isms", "实施和运行信息安全管理体系", "security_operator"),
    ("review_isms", "安全管理体系评审和维护（年度评审）", "security_manager"),
    ("revise_risk_plan", "安全管理体系评审和维护（修订风险评估报告和处置计划）", "security_operator"),
    ("improve_isms", "安全管理体系改进", "security_manager"),
]


def test_isms_review_follows_the_seed_table():
    check_conformance("isms_review", STEPS)
