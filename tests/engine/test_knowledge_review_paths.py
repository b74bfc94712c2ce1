"""Every path of processes/knowledge_review.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores it
and must see the same instance. Form data comes from forms/knowledge_review_*.json and is validated against
their schemas. Covered here: the entries by hand (start task) and by message (knowledge_submitted as the
platform delivers it), both outcomes of every submission gateway (filtered, sent back, approved or rejected,
reply or not), the knowledge_reviewed replies (name, payload, correlation), the notices, separation-of-duties
and assignee properties, and 500 send-backs of the review loop. The yearly timer start and the evaluation
(maintenance or not) are in test_knowledge_review_schedule.py; the walker is knowledge_review_walk.Walk.
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from engine import Engine
from tests.engine.knowledge_review_walk import (
    BPMN_TEXT,
    FROM_INCIDENT,
    KEY,
    LANES,
    MESSAGE,
    NS,
    SCHEDULE,
    SENT_BACK,
    TASKS,
    Walk,
    form,
    form_data,
    load,
    reply,
    run_in_memory,
    sent,
    to_review,
)


@pytest.fixture(scope="module")
def package():
    """knowledge_review.bpmn as shipped, loaded once for the module."""
    return load()


# ---------------------------------------------------------------- the package


def test_package_entries_lanes_tasks_and_forms(package):
    """Three entries: the start task, the message start knowledge_submitted and the yearly schedule."""
    assert (package.process_id, package.name) == ("knowledge_review", "知识管理")
    assert package.start_task == "submit_knowledge"
    assert package.start_messages == (MESSAGE,)
    assert package.start_timer == SCHEDULE
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS


def test_duties_assignee_and_notices(package):
    """The reviewer is neither submitter nor reviser; the revision goes to the author, who is told."""
    props = package.element_properties
    assert props["review_knowledge"]["separateFrom"] == "starter,revise_knowledge"
    assert props["revise_knowledge"]["assignee"] == "author"
    for element in ("return_to_author", "end_published", "end_rejected"):
        assert props[element]["notifyTo"] == "requester,user:author"
    assert "{review_comment}" in props["return_to_author"]["notifyText"]
    assert "{article_id}" in props["end_published"]["notifyText"]


# ---------------------------------------------------------------- submissions by hand


def test_submitted_by_hand_is_published_without_a_reply(package):
    """Own experience: classified, filtered, approved, published; no other record to answer."""
    walk = Walk(package).by_hand()
    task = walk.open_task("classify_knowledge")
    assert task.data["title"] == "VPN 客户端无法连接的处理方法" and task.data["submitted_by"] == "alice"
    to_review(walk)
    assert walk.open_task("review_knowledge").data["kb_category"] == "network"
    walk.do("review_knowledge")
    assert walk.open_task("publish_knowledge").data["review_decision"] == "approve"
    walk.do("publish_knowledge").ended("end_published")
    assert walk.messages == [] and "reply_published" not in walk.result.completed_elements


def test_filtered_out_by_hand_ends_not_taken(package):
    """The filter finds it irrelevant: not taken, never reviewed, no reply."""
    walk = Walk(package).by_hand().do("classify_knowledge")
    walk.do("filter_knowledge", filter_result="irrelevant", filter_reason="与运维无关").ended("end_rejected")
    assert "review_knowledge" not in walk.result.completed_elements and walk.messages == []


def test_rejected_by_hand_with_an_incident_key_is_answered(package):
    """A user links the incident it came from: the rejection is answered to that incident."""
    source = {"source_process": "incident", "source_key": "INC-2026-000777"}
    walk = to_review(Walk(package).by_hand(**source))
    walk.do("review_knowledge", review_decision="reject", review_comment="方法不安全").ended("end_rejected")
    assert sent(walk) == [reply("rejected", source)]
    assert "publish_knowledge" not in walk.result.completed_elements


# ---------------------------------------------------------------- submissions by message


def test_submission_from_an_incident_is_published_and_answered(package):
    """knowledge_submitted starts it; publication answers knowledge_reviewed, correlated on source_key."""
    walk = Walk(package).by_message(FROM_INCIDENT)
    task = walk.open_task("classify_knowledge")
    assert {k: task.data[k] for k in FROM_INCIDENT} == FROM_INCIDENT
    to_review(walk).do("review_knowledge").do("publish_knowledge").ended("end_published")
    assert sent(walk) == [reply("published")]
    assert "reply_published" in walk.result.completed_elements


def test_submission_from_a_problem_filtered_as_duplicate_is_answered_rejected(package):
    """A duplicate is not taken; the problem hears it was rejected."""
    source = dict(FROM_INCIDENT, source_key="PRB-2026-000009", source_process="problem")
    walk = Walk(package).by_message(source).do("classify_knowledge")
    walk.do(
        "filter_knowledge",
        filter_result="duplicate",
        duplicate_of="KB-2026-000001",
        filter_reason="已有同类知识",
    ).ended("end_rejected")
    assert sent(walk) == [reply("rejected", source)]


def test_message_start_only_answers_its_own_message(package):
    """An instance started for the message waits for nothing else and runs no start task."""
    result = Engine().start(package, dict(FROM_INCIDENT, sys_business_key=KEY), message=MESSAGE)
    assert result.status == "running" and result.open_tasks == [] and result.timers == []
    assert [s.name for s in result.subscriptions] == [MESSAGE]


# ---------------------------------------------------------------- the review loop


def test_sent_back_twice_then_published(package):
    """The reviewer sends it back twice; each time the author is told and revises; then it is published."""
    walk = to_review(Walk(package).by_message(FROM_INCIDENT))
    for round_ in (1, 2):
        walk.do("review_knowledge", **SENT_BACK)
        assert walk.passed("return_to_author") == round_
        task = walk.open_task("revise_knowledge")
        assert task.data["review_comment"] == "请补充操作步骤" and task.data["author"] == "alice"
        walk.do("revise_knowledge", title=f"证书过期的处理（第 {round_} 次修订）")
        task = walk.open_task("review_knowledge")
        assert task.data["revision_note"] == "补充了操作步骤"
        assert task.data["title"] == f"证书过期的处理（第 {round_} 次修订）"
    walk.do("review_knowledge").do("publish_knowledge").ended("end_published")
    assert walk.passed("review_knowledge") == 3 and walk.passed("revise_knowledge") == 2
    assert walk.result.data["title"] == "证书过期的处理（第 2 次修订）"
    assert sent(walk) == [reply("published")]


def test_sent_back_then_rejected(package):
    """After a revision the reviewer rejects it: not taken."""
    walk = to_review(Walk(package).by_hand()).do("review_knowledge", **SENT_BACK).do("revise_knowledge")
    walk.do("review_knowledge", review_decision="reject", review_comment="仍不完整").ended("end_rejected")
    assert walk.passed("revise_knowledge") == 1 and walk.messages == []


@pytest.mark.slow
def test_review_loop_survives_500_send_backs(package):
    """Sent back 500 times, then approved: the loop neither stalls nor loses the latest revision."""
    review = form_data("knowledge_review_review.json", "km", SENT_BACK)

    def steps(index: int):
        revision = form_data("knowledge_review_revise.json", "alice", {"title": f"第 {index + 2} 版"})
        return [("review_knowledge", review), ("revise_knowledge", revision)]

    walk = to_review(Walk(package).by_message(FROM_INCIDENT))
    walk.do("review_knowledge", **SENT_BACK).do("revise_knowledge", title="第 1 版")  # pass 1: public API
    walk._took(Engine().state(package, run_in_memory(package, walk.result.snapshot, 499, steps)))
    assert walk.open_task("review_knowledge").data["title"] == "第 500 版"
    walk.do("review_knowledge").do("publish_knowledge").ended("end_published")
    assert walk.passed("review_knowledge") == 501 and walk.passed("revise_knowledge") == 500
    assert sent(walk) == [reply("published")]


# ---------------------------------------------------------------- expressions read the forms


def test_conditions_and_payloads_read_only_form_fields():
    """Every name a condition, loop condition or payload reads is a form field or a sys_ key; the
    knowledge_submitted payload keys are fields of the start form, so both entries carry the same keys."""
    known = {"True", "False", "None", "sys_business_key", "sys_started_by", "sys_started_at"}
    for _, name in TASKS.values():
        known |= set(form(name)["schema"]["properties"])
    assert set(FROM_INCIDENT) <= set(form("knowledge_review_submit.json")["schema"]["properties"])
    root = etree.fromstring(BPMN_TEXT.encode("utf-8"))
    texts = root.xpath(
        "//bpmn:conditionExpression/text() | //bpmn:loopCondition/text()"
        " | //spiffworkflow:messagePayload/text()",
        namespaces=NS,
    )
    assert len(texts) == 9
    for text in texts:
        names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r'"[^"]*"', "", str(text))))
        assert names - {"and", "or", "not", "in"} <= known, f"`{text}` reads {sorted(names - known)}"
