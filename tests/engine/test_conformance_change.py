"""change.bpmn against spec/processes.md §3 (seed 表 4)."""

from tests.engine.conformance import check_conformance

STEPS = [
    ("submit_rfc", "变更申请", "requester"),
    ("assess_change", "变更评估", "change_analyst"),
    ("approve_change", "变更管理组长审批", "change_manager"),
    ("cab_approve", "CAB审批", "cab"),
    ("schedule_tasks", "安排和分派任务", "change_manager"),
    ("implement_change", "实施变更", "change_implementer"),
    # Step 6, third bullet: configuration management updates the CIs before the change goes on.
    ("update_cmdb", "更新配置管理数据库", "config_operator"),
    ("review_change", "变更评审", "change_manager"),
    ("close_change", "变更关闭", "change_manager"),
]


def test_change_follows_the_seed_table():
    check_conformance("change", STEPS)
