"""release.bpmn against spec/processes.md §5 (seed 表 7).

Step 4 (实施发布) names the release manager and the release operator: the element is the release manager's
(rollout plan, task assignment, re-approval); the operator's part is the task 执行发布 that follows.
"""

from tests.engine.conformance import check_conformance

STEPS = [
    ("plan_release", "发布计划", "release_manager"),
    ("test_release", "发布测试", "release_operator"),
    ("approve_release", "发布审批", "release_manager"),
    ("implement_release", "实施发布", "release_manager"),
    ("review_release", "发布评审", "release_manager"),
    ("close_release", "发布关闭", "release_manager"),
]


def test_release_follows_the_seed_table():
    check_conformance("release", STEPS)
