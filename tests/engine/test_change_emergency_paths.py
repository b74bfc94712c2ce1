"""Every path of processes/change_emergency.bpmn, walked task by task through engine/ (no Flask).

Each command takes the snapshot the previous one returned, and after every command a fresh Engine restores
that snapshot and must see the same instance. At every step the test checks which task is open, in which lane
and role, with which form; at the end, which end event was reached and which messages left the instance (name,
payload, correlation). Form data is built from forms/*.json and validated against their schemas.

The two ways in: the start task 紧急变更申请 (a change analyst, by hand) and the message
emergency_change_requested (the platform starts the instance with the payload as data and delivers the
message, as app/services/deliveries.py does). Replies (emergency_change_completed) go out only for the second.
The walker is change_emergency_walk.Walk; the build, test and back-out loop is in
test_change_emergency_build.py.
"""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine import Engine, MessageNotAccepted
from tests.engine.change_emergency_walk import (
    BASE,
    BUSINESS_KEY,
    CHANGE_KEY,
    FROM_CHANGE,
    LANES,
    NS,
    PROCESS,
    REPLY,
    ROOT,
    START_MESSAGE,
    TASKS,
    Walk,
    build_and_pass,
    form,
    load_change_emergency,
    replies,
    reply,
    review_and_close,
)


@pytest.fixture(scope="module")
def package():
    """The process, loaded and linted as the platform loads it (its own file, DMNs from processes/)."""
    return load_change_emergency()


# ---------------------------------------------------------------- the package


def test_package_lanes_tasks_forms_and_start(package):
    """Start task and start message, every lane's role, each user task's role and form; no DMN needed."""
    assert (package.process_id, package.name) == (PROCESS, "紧急变更管理")
    assert package.start_task == "request_emergency_change"
    assert package.start_messages == (START_MESSAGE,)
    assert package.lanes == {name: role for role, name in LANES.items()}
    assert {k: (v.role, v.form) for k, v in package.user_tasks.items()} == TASKS
    assert set(package.files) == {"change_emergency.bpmn"}


def test_separation_assignee_and_notices(package):
    """ECAB not the requester; CAB not an implementer; implementation tasks to the named implementer."""
    props = package.element_properties
    assert props["authorise_emergency_change"]["separateFrom"] == "starter"
    implementer_tasks = [
        "build_emergency_change",
        "test_emergency_change",
        "back_out_emergency_change",
        "implement_emergency_change",
    ]
    assert props["review_emergency_change"]["separateFrom"].split(",") == implementer_tasks
    for element in implementer_tasks:
        assert props[element]["assignee"] == "ec_implementer"
    for element in ("authorise_emergency_change", "back_out_emergency_change", "implement_emergency_change"):
        assert props[element]["notifyTo"] and props[element]["notifyText"]
    assert props["end_rejected"]["notifyTo"] == "requester"
    assert props["end_implemented"]["notifyTo"] == "requester"


def test_conditions_and_payloads_read_only_form_fields():
    """Every name a condition, loop condition or message payload reads is set by a form, the platform (sys_)
    or the script 登记来源 (source_key, source_process), so no path can fail on an unknown name."""
    known = {"True", "False", "None", "sys_business_key", "sys_started_by", "sys_started_at"}
    known |= {"source_key", "source_process"}
    for _role, name in TASKS.values():
        known |= set(form(name)["schema"]["properties"])
    root = etree.parse(str(ROOT / "processes" / f"{PROCESS}.bpmn")).getroot()
    texts = root.xpath(
        "//bpmn:conditionExpression/text() | //bpmn:loopCondition/text()"
        " | //spiffworkflow:messagePayload/text()",
        namespaces=NS,
    )
    assert len(texts) >= 6
    for text in texts:
        names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r'"[^"]*"', "", text)))
        assert names - {"and", "or", "not", "in", "is"} <= known, text


# ---------------------------------------------------------------- raised by hand (no replies)


def test_by_hand_approved_tested_implemented_reviewed_closed(package):
    """The happy path of a request raised by hand: no reply message goes anywhere."""
    walk = Walk(package).start()
    task = walk.open_task("authorise_emergency_change")
    assert task.data["ec_reason"] == "门户网站遭受攻击，服务已中断"
    assert (task.data["source_key"], task.data["source_process"]) == ("", "")
    walk.do("authorise_emergency_change")
    assert walk.open_task("plan_emergency_change").data["ecab_resources"].startswith("网络工程师")
    walk.do("plan_emergency_change")
    assert walk.open_task("build_emergency_change").data["ec_implementer"] == "impl_zhao"
    build_and_pass(walk)
    assert walk.open_task("implement_emergency_change").data["ec_test_result"] == "passed"
    review_and_close(walk)
    assert walk.messages == []
    for element in ("back_out_emergency_change", "reply_implemented", "reply_rejected"):
        assert element not in walk.result.completed_elements
    assert walk.result.data["ecc_summary"] == "紧急变更成功，攻击已阻断"


def test_by_hand_rejected_by_ecab(package):
    """The ECAB rejects a request raised by hand: it ends rejected, nothing is planned, no message."""
    walk = (
        Walk(package).start().do("authorise_emergency_change", ecab_decision="reject", ecab_comments="非紧急")
    )
    walk.ended("end_rejected")
    assert walk.messages == []
    assert "plan_emergency_change" not in walk.result.completed_elements
    assert "reply_rejected" not in walk.result.completed_elements


@pytest.mark.parametrize(
    "field", ["ecab_impact", "ecab_urgency", "ecab_risk", "ecab_change_type", "ecab_resources"]
)
def test_approval_needs_the_quick_rating_and_resources(field):
    """Approving without the rating or the resources is refused by the form; rejecting needs neither."""
    schema = form("change_emergency_authorise.json")["schema"]
    approved = {**BASE["change_emergency_authorise.json"], field: None}
    approved = {k: v for k, v in approved.items() if v is not None}
    assert list(Draft202012Validator(schema).iter_errors(approved))
    rejected = {"ecab_decision": "reject", "ecab_comments": "否", "ecab_participants": "ecab_li"}
    assert not list(Draft202012Validator(schema).iter_errors(rejected))


# ---------------------------------------------------------------- from another process (replies)


def test_from_change_rejected_goes_back_to_the_change(package):
    """Started by change assessment; the ECAB rejects: emergency_change_completed (rejected) to the change."""
    walk = Walk(package).start_by_message(FROM_CHANGE)
    task = walk.open_task("authorise_emergency_change")
    assert task.data["title"] == FROM_CHANGE["title"] and task.data["affected_cis"] == ["DB-CORE-01"]
    assert (task.data["ec_origin"], task.data["ec_related_record"]) == ("change_assessment", CHANGE_KEY)
    assert task.data["sys_started_by"] == "system"
    walk.do("authorise_emergency_change", ecab_decision="reject", ecab_comments="请按一般变更处理")
    assert replies(walk) == [reply("rejected")]
    assert "reply_rejected" in walk.result.completed_elements
    walk.ended("end_rejected")


def test_from_change_implemented_tells_the_change(package):
    """Started by change assessment and carried through: emergency_change_completed (implemented) at close."""
    walk = (
        Walk(package)
        .start_by_message(FROM_CHANGE)
        .do("authorise_emergency_change")
        .do("plan_emergency_change")
    )
    build_and_pass(walk).do("implement_emergency_change").do("review_emergency_change")
    assert walk.messages == []
    walk.do("close_emergency_change")
    assert replies(walk) == [reply("implemented")]
    walk.ended("end_implemented")
    assert walk.result.completed_elements.index("reply_implemented") > walk.result.completed_elements.index(
        "close_emergency_change"
    )


def test_from_an_incident(package):
    """An incident asks directly (source_process incident): the reply is correlated on the incident's key."""
    payload = {**FROM_CHANGE, "source_key": "INC-2026-000123", "source_process": "incident"}
    walk = Walk(package).start_by_message(payload)
    task = walk.open_task("authorise_emergency_change")
    assert (task.data["ec_origin"], task.data["ec_related_record"]) == ("incident", "INC-2026-000123")
    walk.do("authorise_emergency_change", ecab_decision="reject", ecab_comments="否")
    [(name, correlation, sent)] = replies(walk)
    assert (name, correlation) == (REPLY, {"source_key": "INC-2026-000123"})
    assert sent == {"source_key": "INC-2026-000123", "change_key": BUSINESS_KEY, "outcome": "rejected"}


def test_a_request_without_source_key_is_refused(package):
    """The message start reads its correlation (source_key) from the payload; a request without it is
    refused (the platform keeps it undeliverable for an admin) instead of starting a record nobody answers."""
    payload = {k: v for k, v in FROM_CHANGE.items() if k != "source_key"}
    first = Engine().start(package, dict(payload, sys_business_key=BUSINESS_KEY), message=START_MESSAGE)
    with pytest.raises(MessageNotAccepted, match="source_key"):
        Engine().deliver_message(package, first.snapshot, START_MESSAGE, payload)
