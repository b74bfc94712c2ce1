"""incident.bpmn against spec/processes.md §1 (seed 表 2)."""

from tests.engine.conformance import check_conformance

STEPS = [
    ("raise_incident", "事件发起", "requester"),
    ("record_incident", "事件检测和记录", "service_desk"),
    ("classify_incident", "分类和初步支持", "service_desk"),
    ("investigate_l1", "调查和分析（一线）", "support_l1"),
    ("investigate_l2", "调查和分析（二线）", "support_l2"),
    ("investigate_l3", "调查和分析（三线）", "support_l3"),
    ("review_unresolved", "调查和分析（事件管理组长）", "incident_manager"),
    ("resolve_l1", "解决和恢复（一线）", "support_l1"),
    ("resolve_l2", "解决和恢复（二线）", "support_l2"),
    ("resolve_l3", "解决和恢复（三线）", "support_l3"),
    ("resolve_by_desk", "解决和恢复（服务台）", "service_desk"),
    ("confirm_resolution", "事件关闭（用户确认）", "requester"),
    ("close_incident", "事件关闭", "service_desk"),
]


def test_incident_follows_the_seed_table():
    check_conformance("incident", STEPS)
