"""Messages: thrown messages come out of the command; catches need a matching correlation."""

from __future__ import annotations

import pytest

from engine import Engine, MessageNotAccepted, ProcessLoadError, load_package
from tests.engine.engine_support import FIXTURES, FORMS, lane_role, load

MESSAGES = (FIXTURES / "messages.bpmn").read_text(encoding="utf-8")


def started(engine: Engine):
    package = load("messages")
    return package, engine.start(package, {"ticket_id": "INC-1", "title": "Mail down"})


def test_thrown_message_is_returned_with_correlation(engine: Engine) -> None:
    _, result = started(engine)
    [message] = result.messages
    assert (message.name, message.correlation, message.payload) == (
        "rfc_request",
        {"ticket_id": "INC-1"},
        {"ticket_id": "INC-1", "title": "Mail down"},
    )
    [subscription] = result.subscriptions
    assert (subscription.element_id, subscription.name, subscription.correlation) == (
        "change_done",
        "rfc_done",
        {"ticket_id": "INC-1"},
    )
    assert result.active_elements == ["change_done"]


def test_correlated_message_is_caught(engine: Engine) -> None:
    package, result = started(engine)
    result = engine.deliver_message(
        package, result.snapshot, "rfc_done", {"ticket_id": "INC-1", "outcome": "ok"}
    )
    [task] = result.open_tasks
    assert task.element_id == "review"
    assert task.data["rfc_result"] == {"ticket_id": "INC-1", "outcome": "ok"}
    assert result.subscriptions == [] and result.messages == []
    assert ("event_reached", "change_done") in [(f.kind, f.element_id) for f in result.facts]


@pytest.mark.parametrize(
    ("name", "payload", "fragment"),
    [
        ("rfc_done", {"ticket_id": "INC-2", "outcome": "ok"}, "does not correlate"),
        ("rfc_done", {"outcome": "ok"}, "lacks its correlation values"),
        ("unknown", {"ticket_id": "INC-1"}, "not waiting for the message 'unknown'"),
    ],
)
def test_uncorrelated_or_unexpected_message_is_refused(
    engine: Engine, name: str, payload: dict, fragment: str
) -> None:
    package, result = started(engine)
    with pytest.raises(MessageNotAccepted, match=fragment):
        engine.deliver_message(package, result.snapshot, name, payload)


def test_message_catch_without_correlation_is_refused_by_lint() -> None:
    text = MESSAGES.replace(
        '<bpmn:correlationPropertyRetrievalExpression messageRef="rfc_done">\n'
        "      <bpmn:formalExpression>ticket_id</bpmn:formalExpression>\n"
        "    </bpmn:correlationPropertyRetrievalExpression>\n",
        "",
    )
    with pytest.raises(ProcessLoadError) as excinfo:
        load_package(text, {}, forms=FORMS, lane_role=lane_role, filename="messages.bpmn")
    [problem] = excinfo.value.problems
    assert (problem.file, problem.element_id) == ("messages.bpmn", "change_done")
    assert "without correlation" in problem.message and "correlation" in problem.hint


def test_message_start_event_sets_the_correlation(engine: Engine) -> None:
    text = MESSAGES.replace(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>',
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing>'
        '<bpmn:messageEventDefinition id="start_def" messageRef="rfc_done" /></bpmn:startEvent>',
    )
    package = load_package(text, {}, forms=FORMS, lane_role=lane_role, filename="messages.bpmn")
    assert package.start_messages == ("rfc_done",) and package.start_task is None
    result = engine.start(package, {}, message="rfc_done")
    assert result.open_tasks == [] and [s.name for s in result.subscriptions] == ["rfc_done"]
    result = engine.deliver_message(package, result.snapshot, "rfc_done", {"ticket_id": "INC-9"})
    assert [t.element_id for t in result.open_tasks] == ["record"]


def test_a_process_with_a_none_and_a_message_start_runs_only_the_chosen_one(engine: Engine) -> None:
    text = (
        MESSAGES.replace(
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>',
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
            '<bpmn:startEvent id="mstart"><bpmn:outgoing>f0</bpmn:outgoing>'
            '<bpmn:messageEventDefinition id="mstart_def" messageRef="rfc_done" /></bpmn:startEvent>'
            '<bpmn:sequenceFlow id="f0" sourceRef="mstart" targetRef="record" />',
        )
        .replace(
            "<bpmn:flowNodeRef>start</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>mstart</bpmn:flowNodeRef>",
        )
        .replace(
            "<bpmn:incoming>f1</bpmn:incoming>",
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f0</bpmn:incoming>",
            1,
        )
    )
    package = load_package(text, {}, forms=FORMS, lane_role=lane_role, filename="messages.bpmn")
    by_hand = engine.start(package, {"ticket_id": "INC-1", "title": "t"})
    # By hand the start task "record" is completed with the data; only the process's own catch waits.
    assert "record" in by_hand.completed_elements
    assert [s.element_id for s in by_hand.subscriptions] == ["change_done"]
    by_message = engine.start(package, {}, message="rfc_done")
    assert by_message.open_tasks == [] and [s.element_id for s in by_message.subscriptions] == ["mstart"]
    delivered = engine.deliver_message(package, by_message.snapshot, "rfc_done", {"ticket_id": "INC-2"})
    assert [t.element_id for t in delivered.open_tasks] == ["record"]
