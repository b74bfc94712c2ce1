"""knowledge_review.bpmn against spec/processes.md §9 (seed 表 11).

Step 4 is the knowledge manager's: the seed's table names the configuration manager (配置管理组长), the spec
gives it to the knowledge manager, who owns the knowledge base.
"""

from tests.engine.conformance import check_conformance

STEPS = [
    ("classify_knowledge", "知识识别和分类", "knowledge_operator"),
    ("filter_knowledge", "知识过滤和审核（过滤）", "knowledge_operator"),
    ("review_knowledge", "知识过滤和审核（审核）", "knowledge_manager"),
    ("publish_knowledge", "知识发布和分享", "knowledge_manager"),
    ("evaluate_knowledge", "知识评估和维护", "knowledge_manager"),
    ("maintain_knowledge", "知识评估和维护（维护）", "knowledge_operator"),
]


def test_knowledge_review_follows_the_seed_table():
    check_conformance("knowledge_review", STEPS)
