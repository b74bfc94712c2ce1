"""sla_review.bpmn against spec/processes.md §10 (seed 表 8)."""

from tests.engine.conformance import check_conformance

STEPS = [
    ("plan_service", "服务规划", "slm_manager"),
    ("manage_catalogue", "服务目录管理", "slm_manager"),
    ("sign_agreements", "签订服务等级协议", "slm_manager"),
    ("monitor_service", "服务监控", "slm_operator"),
    ("review_meeting", "服务评审", "slm_manager"),
    ("review_report", "服务评审（评审报告）", "slm_manager"),
    ("improve_service", "服务改进", "slm_manager"),
    ("maintain_agreements", "服务维护", "slm_operator"),
]


def test_sla_review_follows_the_seed_table():
    check_conformance("sla_review", STEPS)
