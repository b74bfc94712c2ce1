"""config_audit.bpmn against spec/processes.md §6 (seed 表 6).

Steps 1-2 of 表 6 (配置管理规划, CI定义和标识) are the CMDB's own screens and documents, not process steps.
"""

from tests.engine.conformance import check_conformance

STEPS = [
    ("control_cis", "配置项控制", "config_operator"),
    ("verify_ci", "配置状态验证和审计", "config_operator"),
    ("report_configuration", "配置管理报告", "config_operator"),
]


def test_config_audit_follows_the_seed_table():
    check_conformance("config_audit", STEPS)
