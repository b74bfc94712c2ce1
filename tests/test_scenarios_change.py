"""Change scenarios across processes, driven through the JSON API as the users would: an emergency change
rejected by the ECAB (from change assessment and raised by hand), and separation of duties on the change.

Form values per step are in tests/scenario_steps.py, the API helpers in tests/scenario_api.py. Database reads
are for assertions only, each inside its own ``with app.app_context():`` (never around requests).
"""

from __future__ import annotations

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
    task_status,
)

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
    from app.services.governance import UserInput, create_user

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
