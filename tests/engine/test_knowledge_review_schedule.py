"""The yearly evaluation of processes/knowledge_review.bpmn: the timer start as the scheduler runs it, both
outcomes (keep everything, maintain articles), and what a scheduled start on the full process gets today.

Walked task by task through engine/ with knowledge_review_walk.Walk.
"""

from __future__ import annotations

import pytest
from lxml import etree

from engine import Engine
from tests.engine.knowledge_review_walk import (
    BPMN_TEXT,
    KEY,
    NS,
    SCHEDULE,
    SCHEDULED,
    Walk,
    load,
)


@pytest.fixture(scope="module")
def package():
    """knowledge_review.bpmn as shipped, loaded once for the module."""
    return load()


@pytest.fixture(scope="module")
def scheduled():
    """The process as shipped; the scheduler starts it from its timer start (Engine.start(scheduled=True))."""
    return load()


# ---------------------------------------------------------------- periodic evaluation


def test_a_scheduled_start_runs_only_the_timer_start(package):
    """The scheduler's start (app/services/schedules.py) runs the timer start: evaluation, not 知识提交."""
    result = Engine().start(package, dict(SCHEDULED), complete_start_task=False, scheduled=True)
    assert [t.element_id for t in result.open_tasks] == ["evaluate_knowledge"]
    assert "submit_knowledge" not in result.completed_elements + result.active_elements


def test_scheduled_evaluation_keeps_everything(scheduled):
    """The yearly evaluation finds nothing to maintain."""
    assert scheduled.start_timer == SCHEDULE and scheduled.start_task == "submit_knowledge"
    walk = Walk(scheduled).scheduled()
    assert walk.open_task("evaluate_knowledge").data["sys_business_key"] == KEY
    walk.do("evaluate_knowledge").ended("end_evaluated")
    assert "maintain_knowledge" not in walk.result.completed_elements and walk.messages == []


def test_scheduled_evaluation_maintains_articles(scheduled):
    """The evaluation lists articles to update or retire; the operator maintains them."""
    walk = Walk(scheduled).scheduled()
    walk.do("evaluate_knowledge", evaluation_result="maintain", articles_to_maintain="KB-2026-000003 更新")
    assert walk.open_task("maintain_knowledge").data["articles_to_maintain"] == "KB-2026-000003 更新"
    walk.do("maintain_knowledge").ended("end_maintained")


def test_timer_start_is_written_unquoted():
    """The schedule is the ISO 8601 repeating interval as bpmn.io writes it (no quotes)."""
    root = etree.fromstring(BPMN_TEXT.encode("utf-8"))
    cycles = root.xpath("//bpmn:startEvent/bpmn:timerEventDefinition/bpmn:timeCycle/text()", namespaces=NS)
    assert [c.strip() for c in cycles] == [SCHEDULE]
    starts = [s.get("id") for s in root.xpath("//bpmn:process/bpmn:startEvent", namespaces=NS)]
    assert starts[0] == "start_manual"  # first in document order: the by-hand start wins today
