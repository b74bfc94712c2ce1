"""Scenarios across processes, driven through the JSON API as the users would: who sees which task, what
each record's status becomes, which records are linked, what the registries (KEDB, CMDB, knowledge base) and
the notices show.

Here: incident -> problem -> major change (CAB) -> release -> CMDB -> problem closed -> incident told. The
emergency change and separation of duties are in test_scenarios_change.py, knowledge in
test_scenarios_knowledge.py.

Form values per step are in tests/scenario_steps.py, the API helpers in tests/scenario_api.py. Database reads
are for assertions only, each inside its own ``with app.app_context():`` (never around requests).
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import CIHistory, ConfigurationItem, KnownError
from tests import scenario_steps as steps
from tests.scenario_api import (
    complete,
    history_kinds,
    instance,
    links,
    notices,
    page_text,
    seen,
    start,
    task,
)

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
