"""Knowledge scenarios across processes, driven through the JSON API as the users would: an incident closed
with knowledge, reviewed, revised and published; a submission rejected in review; one filtered out.

Form values per step are in tests/scenario_steps.py, the API helpers in tests/scenario_api.py. Database reads
are for assertions only, each inside its own ``with app.app_context():`` (never around requests).
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Article
from tests import scenario_steps as steps
from tests.scenario_api import (
    complete,
    history_kinds,
    instance,
    links,
    notices,
    seen,
    start,
    task,
)

# --- 4. knowledge -------------------------------------------------------------------------------------------


def _temporary_article(client, title: str) -> str:
    """The author submits the article to the temporary knowledge base; returns its key."""
    response = client.post(
        "/api/v1/articles",
        json={"title": title, "category": "hardware", "body": "Stop the spooler, delete the job, start it."},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["key"]


def test_incident_closed_with_knowledge_is_reviewed_revised_and_published(app, as_user):
    requester, desk, l1 = as_user("requester"), as_user("desk"), as_user("l1")
    operator, manager = as_user("knowledge_operator"), as_user("knowledge_manager")
    incident = start(requester, "incident", dict(steps.INCIDENT_RAISE, title="打印队列卡住"))
    inc_key = incident["business_key"]
    complete(desk, task(desk, "record_incident", inc_key), dict(steps.INCIDENT_RECORD, title="打印队列卡住"))
    complete(desk, task(desk, "classify_incident", inc_key), steps.INCIDENT_CLASSIFY)
    complete(l1, task(l1, "investigate_l1", inc_key), steps.INCIDENT_L1_RESOLVE)
    complete(l1, task(l1, "resolve_l1", inc_key), steps.INCIDENT_RESOLVE_L1)
    complete(requester, task(requester, "confirm_resolution", inc_key), steps.INCIDENT_CONFIRM)
    closed = complete(desk, task(desk, "close_incident", inc_key), steps.INCIDENT_CLOSE_WITH_KNOWLEDGE)
    assert (closed["status"], closed["end_event"]) == ("completed", "end_closed")

    # knowledge_submitted started a knowledge review, linked to the incident, with the incident's text.
    classify = task(operator, "classify_knowledge")
    kr_key = classify["business_key"]
    assert links(app, inc_key) == {(kr_key, "knowledge_submitted")}
    review_data = instance(operator, classify["instance_id"])["data"]
    assert review_data["body"] == steps.INCIDENT_CLOSE_WITH_KNOWLEDGE["knowledge_body"]
    assert (review_data["source_key"], review_data["source_process"]) == (inc_key, "incident")

    # The resolver writes the temporary article; the operator classifies, filters; the manager sends it back.
    article_key = _temporary_article(l1, "打印队列卡住的处理")
    complete(operator, classify, steps.knowledge_classify(article_key, "l1"))
    complete(operator, task(operator, "filter_knowledge", kr_key), steps.KNOWLEDGE_FILTER_PASS)
    complete(manager, task(manager, "review_knowledge", kr_key), steps.KNOWLEDGE_REVIEW_REVISE)
    revise = task(l1, "revise_knowledge", kr_key)  # offered to the author only
    assert revise["assignee"] == "l1"
    assert "revise_knowledge" not in [element for element, _ in seen(requester) + seen(operator)]
    assert any(steps.KNOWLEDGE_REVIEW_REVISE["review_comment"] in notice["text"] for notice in notices(l1))
    complete(l1, revise, steps.KNOWLEDGE_REVISE)

    # Reviewed again, approved and published: the article is formal; the incident is told.
    complete(manager, task(manager, "review_knowledge", kr_key), steps.KNOWLEDGE_REVIEW_APPROVE)
    published = complete(manager, task(manager, "publish_knowledge", kr_key), steps.KNOWLEDGE_PUBLISH)
    assert (published["status"], published["end_event"]) == ("completed", "end_published")
    article = requester.get(f"/api/v1/articles/{article_key}").get_json()
    assert (article["state"], article["reviewer"]) == ("formal", "knowledge_manager")
    with app.app_context():
        assert db.session.scalar(select(Article.state).where(Article.key == article_key)) == "formal"
    assert history_kinds(requester, incident["id"])[-1] == "message_noted"
    assert any(article_key in notice["text"] for notice in notices(l1))  # end_published names the article


def test_knowledge_rejected_in_review_goes_back_to_its_author_with_the_comment(app, as_user):
    requester, operator, manager = (
        as_user("requester"),
        as_user("knowledge_operator"),
        as_user("knowledge_manager"),
    )
    article_key = _temporary_article(requester, "打印机卡纸")
    submitted = start(
        requester,
        "knowledge_review",
        {
            "title": "打印机卡纸",
            "category": "hardware",
            "body": "Open tray 2.",
            "source_process": "experience",
        },
    )
    kr_key = submitted["business_key"]
    complete(
        operator,
        task(operator, "classify_knowledge", kr_key),
        steps.knowledge_classify(article_key, "requester"),
    )
    complete(operator, task(operator, "filter_knowledge", kr_key), steps.KNOWLEDGE_FILTER_PASS)
    ended = complete(manager, task(manager, "review_knowledge", kr_key), steps.KNOWLEDGE_REVIEW_REJECT)
    assert (ended["status"], ended["end_event"]) == ("completed", "end_rejected")

    comment = steps.KNOWLEDGE_REVIEW_REJECT["review_comment"]
    article = requester.get(f"/api/v1/articles/{article_key}").get_json()
    assert (article["state"], article["reviewer"], article["reviewer_comment"]) == (
        "temporary",
        "knowledge_manager",
        comment,
    )
    told = [notice for notice in notices(requester) if notice["business_key"] == kr_key]
    assert [notice["element_id"] for notice in told] == ["end_rejected"]
    assert (
        requester.patch(
            f"/api/v1/articles/{article_key}", json={"body": "Open tray 2, then tray 1."}
        ).status_code
        == 200
    )


def test_knowledge_filtered_out_goes_back_to_its_author_with_the_filter_reason(app, as_user):
    requester, operator = as_user("requester"), as_user("knowledge_operator")
    article_key = _temporary_article(requester, "旧打印驱动")
    submitted = start(
        requester,
        "knowledge_review",
        {
            "title": "旧打印驱动",
            "category": "hardware",
            "body": "Use driver 1.0.",
            "source_process": "experience",
        },
    )
    kr_key = submitted["business_key"]
    complete(
        operator,
        task(operator, "classify_knowledge", kr_key),
        steps.knowledge_classify(article_key, "requester"),
    )
    reason = "Only applies to Windows XP, which we no longer run."
    ended = complete(
        operator,
        task(operator, "filter_knowledge", kr_key),
        {"filter_result": "obsolete", "filter_reason": reason},
    )
    assert (ended["status"], ended["end_event"]) == ("completed", "end_rejected")
    article = requester.get(f"/api/v1/articles/{article_key}").get_json()
    assert (article["state"], article["reviewer"]) == ("temporary", "knowledge_operator")
    assert article["reviewer_comment"] == reason  # the author learns why (the form field is filter_reason)
