"""Scenarios across processes, driven through the JSON API as the users would: who sees which task, what
each record's status becomes, which records are linked, what the registries (KEDB, CMDB, knowledge base) and
the notices show.

Form values per step are in tests/scenario_steps.py. Database reads are for assertions only, each inside its
own ``with app.app_context():`` (never around requests).
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import (
    Article,
    CIHistory,
    ConfigurationItem,
    HumanTask,
    KnownError,
    ProcessInstance,
    RecordLink,
)
from tests import scenario_steps as steps

EN = {"Accept-Language": "en"}


# --- helpers ------------------------------------------------------------------------------------------------


def inbox(client) -> list[dict]:
    """Every open task in the client's inbox (all pages)."""
    items, page = [], 1
    while True:
        body = client.get("/api/v1/tasks", query_string={"page": page}).get_json()
        items += body["items"]
        if page >= body["pages"]:
            return items
        page += 1


def seen(client) -> list[tuple[str, str]]:
    """(element id, business key) of every task in the client's inbox."""
    return sorted((task["element_id"], task["business_key"]) for task in inbox(client))


def task(client, element_id: str, business_key: str | None = None) -> dict:
    """The one open task of that element (of that record, when given) in the client's inbox."""
    found = [
        item
        for item in inbox(client)
        if item["element_id"] == element_id and business_key in (None, item["business_key"])
    ]
    assert len(found) == 1, (element_id, business_key, seen(client))
    return found[0]


def complete(client, item: dict, data: dict, status: int = 200) -> dict:
    """Complete a task through the API (English messages) and check the status code."""
    response = client.post(f"/api/v1/tasks/{item['id']}/complete", json={"data": data}, headers=EN)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def start(client, process_id: str, data: dict) -> dict:
    """Start a process with its start form's values."""
    response = client.post(f"/api/v1/processes/{process_id}/instances", json={"data": data}, headers=EN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def instance(client, instance_id: int) -> dict:
    response = client.get(f"/api/v1/instances/{instance_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def history_kinds(client, instance_id: int) -> list[str]:
    return [
        entry["kind"] for entry in client.get(f"/api/v1/instances/{instance_id}/history").get_json()["items"]
    ]


def notices(client) -> list[dict]:
    return client.get("/api/v1/notifications").get_json()["items"]


def links(app, business_key: str) -> set[tuple[str, str]]:
    """(other record's business key, message) of every RecordLink of the record, either way."""
    with app.app_context():
        record = db.session.scalar(
            select(ProcessInstance).where(ProcessInstance.business_key == business_key)
        )
        rows = db.session.scalars(
            select(RecordLink).where(
                (RecordLink.from_instance_id == record.id) | (RecordLink.to_instance_id == record.id)
            )
        ).all()
        return {
            (
                (row.to_instance if row.from_instance_id == record.id else row.from_instance).business_key,
                row.kind,
            )
            for row in rows
        }


def page_text(client, instance_id: int) -> str:
    response = client.get(f"/instances/{instance_id}", headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def task_status(app, task_id: int) -> str:
    with app.app_context():
        return db.session.get(HumanTask, task_id).status


# --- 1. incident -> problem -> major change (CAB) -> release -> CMDB -> problem closed -> incident told ----


def test_incident_problem_change_release_cmdb_round_trip(app, as_user):
    requester, desk, l1, l2, l3, incmgr = (
        as_user(u) for u in ("requester", "desk", "l1", "l2", "l3", "incmgr")
    )
    pm, analyst, expert = (as_user(u) for u in ("problem_manager", "problem_analyst", "problem_expert"))

    # Incident: raised, recorded, routed up the tiers; third line cannot solve it.
    incident = start(requester, "incident", steps.INCIDENT_RAISE)
    inc_key = incident["business_key"]
    complete(desk, task(desk, "record_incident", inc_key), steps.INCIDENT_RECORD)
    complete(desk, task(desk, "classify_incident", inc_key), steps.INCIDENT_CLASSIFY)
    complete(l1, task(l1, "investigate_l1", inc_key), steps.INCIDENT_L1_ESCALATE)
    complete(l2, task(l2, "investigate_l2", inc_key), steps.INCIDENT_L2_ESCALATE)
    complete(l3, task(l3, "investigate_l3", inc_key), steps.INCIDENT_L3_UNRESOLVED)
    assert seen(pm) == []

    # The incident manager opens a problem: problem_requested starts a problem instance, linked.
    complete(incmgr, task(incmgr, "review_unresolved", inc_key), steps.INCIDENT_MANAGER_OPENS_PROBLEM)
    record = task(pm, "record_problem")
    prb_key = record["business_key"]
    assert prb_key.startswith("PRB-") and record["title"] == steps.INCIDENT_RAISE["title"]
    assert links(app, inc_key) == {(prb_key, "problem_requested")}
    assert task(desk, "close_incident", inc_key)  # closed unresolved for now: the desk closes it later
    assert seen(analyst) == [] and seen(expert) == []

    # Problem management finds the root cause: a known error with the problem's key.
    complete(pm, record, steps.PROBLEM_RECORD)
    complete(analyst, task(analyst, "classify_problem", prb_key), steps.PROBLEM_CLASSIFY)
    complete(pm, task(pm, "assign_experts", prb_key), steps.PROBLEM_ASSIGN)
    assert seen(as_user("problem_manager")) == []
    complete(expert, task(expert, "investigate_problem", prb_key), steps.PROBLEM_INVESTIGATE)
    known = pm.get("/api/v1/known-errors", query_string={"q": "session"}).get_json()["items"]
    assert [(k["problem_key"], k["root_cause"]) for k in known] == [
        (prb_key, steps.PROBLEM_INVESTIGATE["root_cause"])
    ]
    assert "APP-PORTAL" in known[0]["ci_codes"]

    # The problem needs a change: change_requested starts a change, linked to the problem.
    change_analyst, change_manager = as_user("change_analyst"), as_user("change_manager")
    complete(pm, task(pm, "evaluate_solution", prb_key), steps.PROBLEM_EVALUATE_CHANGE)
    assess = task(change_analyst, "assess_change")
    chg_key = assess["business_key"]
    assert chg_key.startswith("CHG-")
    assert (chg_key, "change_requested") in links(app, prb_key)
    problem_id = record["instance_id"]
    assert instance(pm, problem_id)["active_elements"][-1:] == ["wait_change"]

    # Classified major by change_class.dmn -> the CAB.
    complete(change_analyst, assess, steps.CHANGE_ASSESS_MAJOR)
    change_id = assess["instance_id"]
    assert instance(change_manager, change_id)["data"]["change_class"] == "major"
    complete(change_manager, task(change_manager, "convene_cab", chg_key), steps.CHANGE_CONVENE_CAB)

    # Exactly cab1..cab5 each see their own vote task, and no one else's.
    voters = {name: as_user(name) for name in steps.CAB_MEMBERS}
    votes = {name: task(client, "cab_approve", chg_key) for name, client in voters.items()}
    assert len({vote["id"] for vote in votes.values()}) == 5
    assert all(vote["assignee"] == name for name, vote in votes.items())
    assert voters["cab1"].get(f"/api/v1/tasks/{votes['cab2']['id']}").status_code == 403
    assert "cab_approve" not in [element for element, _ in seen(change_manager)]
    for name in ("cab1", "cab2", "cab3"):
        complete(voters[name], votes[name], steps.CAB_APPROVE)
    complete(voters["cab4"], votes["cab4"], steps.CAB_REJECT)
    assert instance(change_manager, change_id)["status"] == "running"
    assert seen(change_manager) == []  # nothing decided before the last vote
    complete(voters["cab5"], votes["cab5"], steps.CAB_REJECT)
    decided = instance(change_manager, change_id)["data"]
    assert (decided["cab_approvals"], decided["cab_rejections"], decided["cab_result"]) == (3, 2, "approved")

    # Scheduled; the implementation needs a release -> release_requested starts a release, linked.
    implementer = as_user("change_implementer")
    complete(
        change_manager,
        task(change_manager, "schedule_tasks", chg_key),
        steps.change_schedule("change_implementer"),
    )
    complete(implementer, task(implementer, "implement_change", chg_key), steps.CHANGE_IMPLEMENT_WITH_RELEASE)
    release_manager, release_operator = as_user("release_manager"), as_user("release_operator")
    plan = task(release_manager, "plan_release")
    rel_key = plan["business_key"]
    assert (rel_key, "release_requested") in links(app, chg_key)
    assert seen(as_user("config_operator")) == []  # the CMDB waits for the release

    complete(release_manager, plan, steps.RELEASE_PLAN)
    complete(release_operator, task(release_operator, "test_release", rel_key), steps.RELEASE_TEST_PASSED)
    complete(release_manager, task(release_manager, "approve_release", rel_key), steps.RELEASE_APPROVE)
    complete(release_manager, task(release_manager, "implement_release", rel_key), steps.RELEASE_IMPLEMENT)
    complete(release_operator, task(release_operator, "execute_release", rel_key), steps.RELEASE_EXECUTE)
    complete(release_manager, task(release_manager, "review_release", rel_key), steps.RELEASE_REVIEW)
    released = complete(release_manager, task(release_manager, "close_release", rel_key), steps.RELEASE_CLOSE)
    assert (released["status"], released["end_event"]) == ("completed", "end_released")

    # release_completed resumed the change: the configuration operator updates the CMDB.
    assert instance(change_manager, change_id)["data"]["release_result"]["outcome"] == "released"
    config_operator = as_user("config_operator")
    complete(config_operator, task(config_operator, "update_cmdb", chg_key), steps.CHANGE_UPDATE_CMDB)
    # The step wrote the CI's history under the change's key (platformEffect cmdb_update).
    ci = config_operator.get("/api/v1/cis/APP-PORTAL").get_json()
    assert chg_key in [entry["authority"] for entry in ci["history"]], ci["history"]
    with app.app_context():
        portal = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == "APP-PORTAL"))
        authorities = db.session.scalars(
            select(CIHistory.authority).where(CIHistory.ci_id == portal.id)
        ).all()
        assert chg_key in authorities
    audit = [kind for _, kind in links(app, chg_key)]
    assert "config_audit_requested" in audit  # configuration management audits the changed CIs

    # Review by someone other than the implementer, then close: change_completed resumes the problem.
    complete(change_manager, task(change_manager, "review_change", chg_key), steps.CHANGE_REVIEW_BY_CAB)
    closed_change = complete(
        change_manager, task(change_manager, "close_change", chg_key), steps.CHANGE_CLOSE
    )
    assert (closed_change["status"], closed_change["end_event"]) == ("completed", "end_closed")
    assert instance(pm, problem_id)["data"]["change_result"]["outcome"] == "success"

    # The desk confirms the problem is resolved; problem_closed is noted on the incident.
    notices_before = len(notices(requester))
    closed_problem = complete(desk, task(desk, "close_problem", prb_key), steps.PROBLEM_CLOSE)
    assert (closed_problem["status"], closed_problem["end_event"]) == ("completed", "end_closed")
    assert history_kinds(requester, incident["id"])[-1] == "message_noted"
    told = notices(requester)
    assert len(told) == notices_before + 1
    assert prb_key in told[0]["text"] and "problem_closed" in told[0]["text"]

    # Finally the desk closes the incident.
    done = complete(desk, task(desk, "close_incident", inc_key), steps.INCIDENT_CLOSE)
    assert (done["status"], done["end_event"]) == ("completed", "end_closed")

    # The chain of records is linked both ways and shown on each record's page.
    assert {key for key, _ in links(app, prb_key)} >= {inc_key, chg_key}
    assert {key for key, _ in links(app, chg_key)} >= {prb_key, rel_key}
    owner = as_user("owner")
    assert prb_key in page_text(owner, incident["id"])
    problem_page = page_text(owner, problem_id)
    assert inc_key in problem_page and chg_key in problem_page
    change_page = page_text(owner, change_id)
    assert prb_key in change_page and rel_key in change_page
    assert chg_key in page_text(owner, plan["instance_id"])
    with app.app_context():
        assert db.session.scalar(select(KnownError.problem_key).where(KnownError.problem_key == prb_key))


# --- 2. an emergency change rejected by the ECAB ---------------------------------------------------------


def test_change_classified_emergency_goes_back_to_assessment_when_the_ecab_rejects(app, as_user):
    requester, change_analyst = as_user("requester"), as_user("change_analyst")
    ecab = {name: as_user(name) for name in ("ecab1", "ecab2", "ecab3")}
    change = start(requester, "change", steps.CHANGE_SUBMIT_RFC)
    chg_key = change["business_key"]
    complete(change_analyst, task(change_analyst, "assess_change", chg_key), steps.CHANGE_ASSESS_EMERGENCY)

    # emergency_change_requested started an emergency change, linked; every ECAB member is offered it.
    authorise = task(ecab["ecab1"], "authorise_emergency_change")
    emc_key = authorise["business_key"]
    assert emc_key != chg_key
    assert links(app, chg_key) == {(emc_key, "emergency_change_requested")}
    assert all(task(client, "authorise_emergency_change", emc_key) for client in ecab.values())
    assert seen(as_user("cab1")) == [] and seen(change_analyst) == []
    waiting = instance(requester, change["id"])
    assert waiting["status"] == "running" and "emergency_change_done" in waiting["active_elements"]
    assert instance(ecab["ecab1"], authorise["instance_id"])["data"]["ec_related_record"] == chg_key

    # One ECAB member rejects it: the emergency change ends rejected and tells the change.
    rejected = complete(ecab["ecab1"], authorise, steps.ECAB_REJECT)
    assert (rejected["status"], rejected["end_event"]) == ("completed", "end_rejected")
    assert seen(ecab["ecab2"]) == [] and seen(ecab["ecab3"]) == []
    back = instance(requester, change["id"])
    assert back["status"] == "running"
    assert back["data"]["emergency_result"] == {
        "source_key": chg_key,
        "change_key": emc_key,
        "outcome": "rejected",
    }
    assert "deliver_message" in history_kinds(requester, change["id"])

    # Back at assessment (the next round); the analyst rejects the RFC and the requester is told.
    again = task(change_analyst, "assess_change", chg_key)
    assert seen(change_analyst) == [("assess_change", chg_key)]
    ended = complete(
        change_analyst,
        again,
        {
            "rfc_check": "rejected",
            "rfc_reject_category": "other",
            "rfc_reject_reason": "ECAB: not an emergency.",
        },
    )
    assert (ended["status"], ended["end_event"]) == ("completed", "end_rejected")
    told = [notice["element_id"] for notice in notices(requester) if notice["business_key"] == chg_key]
    assert told == ["end_rejected"]


def test_emergency_change_raised_by_hand_and_rejected_by_the_ecab_ends_rejected(app, as_user):
    change_analyst, ecab2 = as_user("change_analyst"), as_user("ecab2")
    emergency = start(change_analyst, "change_emergency", steps.EMERGENCY_REQUEST)
    emc_key = emergency["business_key"]
    authorise = task(ecab2, "authorise_emergency_change", emc_key)
    assert seen(as_user("change_manager")) == []
    ended = complete(ecab2, authorise, steps.ECAB_REJECT)
    assert (ended["status"], ended["end_event"]) == ("completed", "end_rejected")
    assert links(app, emc_key) == set()  # raised by hand: nothing to answer
    told = [notice for notice in notices(change_analyst) if notice["business_key"] == emc_key]
    assert [notice["element_id"] for notice in told] == ["end_rejected"]
    assert instance(change_analyst, emergency["id"])["data"]["ecab_decided_by"] == "ecab2"
    assert "authorise_emergency_change" in instance(change_analyst, emergency["id"])["completed_elements"]


# --- 3. separation of duties --------------------------------------------------------------------------------


def _create_user(app, username: str, roles: set[str]) -> None:
    from app.services.users import UserInput, create_user

    with app.app_context():
        create_user(None, UserInput(username=username, display_name=username, password="demo"), roles)  # noqa: S106


def _refused(app, client, item: dict, data: dict) -> str:
    """Completing is refused with 403 for separation of duties; the task stays open. Returns the message."""
    body = complete(client, item, data, status=403)
    message = body["error"]["message"]
    assert "Separation of duties" in message, message
    assert task_status(app, item["id"]) == "open"
    return message


def test_separation_of_duties_requester_may_not_approve_and_implementer_may_not_review(app, as_user):
    _create_user(app, "lead", {"change_manager", "cab"})  # may approve and vote, and raises changes too
    _create_user(app, "builder", {"change_implementer", "change_manager"})  # may implement and review
    lead, builder = as_user("lead"), as_user("builder")
    change_analyst, change_manager = as_user("change_analyst"), as_user("change_manager")

    # A minor change: its requester may not give the manager's approval.
    minor = start(lead, "change", steps.CHANGE_SUBMIT_RFC)
    complete(
        change_analyst,
        task(change_analyst, "assess_change", minor["business_key"]),
        steps.CHANGE_ASSESS_MINOR,
    )
    approve = task(lead, "approve_change", minor["business_key"])
    assert "raised this request" in _refused(app, lead, approve, steps.CHANGE_MANAGER_APPROVE)
    complete(change_manager, approve, steps.CHANGE_MANAGER_APPROVE)

    # The implementer may not review their own implementation; another change manager may.
    complete(
        change_manager,
        task(change_manager, "schedule_tasks", minor["business_key"]),
        steps.change_schedule("builder"),
    )
    offered = [element for element, _ in seen(change_manager)]
    assert "implement_change" not in offered  # offered to the assigned implementer only
    complete(builder, task(builder, "implement_change", minor["business_key"]), steps.CHANGE_IMPLEMENT_PLAIN)
    review = task(builder, "review_change", minor["business_key"])
    assert "实施变更" in _refused(app, builder, review, steps.CHANGE_REVIEW)
    complete(change_manager, review, steps.CHANGE_REVIEW)

    # A major change: its requester, a CAB member, may not vote on it; the other members may.
    major = start(lead, "change", steps.CHANGE_SUBMIT_RFC)
    complete(
        change_analyst,
        task(change_analyst, "assess_change", major["business_key"]),
        steps.CHANGE_ASSESS_MAJOR,
    )
    complete(
        change_manager,
        task(change_manager, "convene_cab", major["business_key"]),
        dict(steps.CHANGE_CONVENE_CAB, cab_members=["lead", "cab1", "cab2"]),
    )
    own_vote = task(lead, "cab_approve", major["business_key"])
    _refused(app, lead, own_vote, steps.CAB_APPROVE)
    cab1 = as_user("cab1")
    assert complete(cab1, task(cab1, "cab_approve"), steps.CAB_APPROVE)["status"] == "running"


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
