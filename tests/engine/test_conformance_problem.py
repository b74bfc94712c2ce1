"""problem.bpmn against spec/processes.md §2 (seed 表 3)."""

from tests.engine.conformance import check_conformance

STEPS = [
    ("record_problem", "确认和记录问题", "problem_manager"),
    ("classify_problem", "问题归类和分配", "problem_analyst"),
    ("assign_experts", "问题归类和分配（分配专家）", "problem_manager"),
    ("investigate_problem", "问题调查和诊断", "problem_expert"),
    ("evaluate_solution", "解决方案评估", "problem_manager"),
    ("implement_solution", "解决方案实施", "problem_expert"),
    ("close_problem", "问题关闭", "service_desk"),
]


def test_problem_follows_the_seed_table():
    check_conformance("problem", STEPS)
