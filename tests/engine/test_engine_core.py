"""Engine commands on the simple process: start task, DMN, gateway conditions, snapshots, errors."""

from __future__ import annotations

import json

import pytest

from engine import Engine, ScriptError, SnapshotError, TaskNotFound, load_package
from tests.engine.engine_support import FIXTURES, FORMS, lane_role, load

INCIDENT = {"title": "Mail down", "impact": "high", "urgency": 2, "desk_can_fix": False}


def restore_each_step(engine: Engine, package, result):
    """A fresh engine must see the same instance from the snapshot alone."""
    again = Engine(clock=engine.clock).state(package, result.snapshot)
    assert [t.task_id for t in again.open_tasks] == [t.task_id for t in result.open_tasks]
    assert again.status == result.status
    assert again.completed_elements == result.completed_elements
    return result


def test_start_completes_the_start_task_and_routes_by_dmn_and_gateway(engine: Engine) -> None:
    package = load("simple")
    result = restore_each_step(engine, package, engine.start(package, INCIDENT))
    assert result.status == "running"
    assert result.completed_elements == ["start", "record", "classify", "route"]
    assert result.data["priority"] == "P1"
    [task] = result.open_tasks
    assert (task.element_id, task.name, task.lane, task.role, task.form) == (
        "investigate",
        "调查和分析",
        "一线支持 (support_l1)",
        "support_l1",
        "investigate.json",
    )
    assert task.data["title"] == "Mail down"
    assert result.active_elements == ["investigate"]
    assert [(f.kind, f.element_id) for f in result.facts] == [
        ("started", "simple"),
        ("event_reached", "start"),
        ("task_completed", "record"),
        ("task_completed", "classify"),
        ("gateway_taken", "route"),
    ]
    assert all(f.at == engine.clock() for f in result.facts)


@pytest.mark.parametrize(
    ("impact", "urgency", "desk_can_fix", "priority", "next_task"),
    [
        ("high", 1, False, "P1", "investigate"),
        ("high", 5, False, "P2", "investigate"),  # "high","medium" list cell; "-" any
        ("medium", 1, False, "P2", "investigate"),
        ("low", 1, False, "P4", "resolve"),  # default flow
        ("high", 1, True, "P1", "resolve"),  # condition false -> default flow
    ],
)
def test_dmn_cells_and_gateway_conditions(
    engine: Engine, impact, urgency, desk_can_fix, priority, next_task
) -> None:
    package = load("simple")
    data = {**INCIDENT, "impact": impact, "urgency": urgency, "desk_can_fix": desk_can_fix}
    result = engine.start(package, data)
    assert result.data["priority"] == priority
    assert [t.element_id for t in result.open_tasks] == [next_task]


def test_complete_tasks_to_the_end(engine: Engine) -> None:
    package = load("simple")
    result = engine.start(package, INCIDENT)
    result = restore_each_step(
        engine,
        package,
        engine.complete_task(
            package, result.snapshot, result.open_tasks[0].task_id, {"diagnosis": "disk full"}
        ),
    )
    assert [t.element_id for t in result.open_tasks] == ["resolve"]
    assert result.open_tasks[0].data["diagnosis"] == "disk full"
    result = restore_each_step(
        engine,
        package,
        engine.complete_task(package, result.snapshot, result.open_tasks[0].task_id, {"solution": "cleaned"}),
    )
    assert result.status == "completed"
    assert result.open_tasks == [] and result.active_elements == []
    assert result.completed_elements[-3:] == ["investigate", "resolve", "end"]
    assert [(f.kind, f.element_id) for f in result.facts] == [
        ("task_completed", "resolve"),
        ("event_reached", "end"),
        ("ended", "simple"),
    ]
    assert result.data["solution"] == "cleaned"


def test_complete_unknown_or_finished_task_is_refused(engine: Engine) -> None:
    package = load("simple")
    result = engine.start(package, INCIDENT)
    task_id = result.open_tasks[0].task_id
    with pytest.raises(TaskNotFound):
        engine.complete_task(package, result.snapshot, "not-a-uuid", {})
    with pytest.raises(TaskNotFound):
        engine.complete_task(package, result.snapshot, "00000000-0000-0000-0000-000000000000", {})
    done = engine.complete_task(package, result.snapshot, task_id, {})
    with pytest.raises(TaskNotFound):
        engine.complete_task(package, done.snapshot, task_id, {})


def test_snapshot_stores_the_spec_by_reference(engine: Engine) -> None:
    package = load("simple")
    result = engine.start(package, INCIDENT)
    stored = json.loads(result.snapshot)
    assert stored["spec_ref"] == {"process_id": "simple", "content_hash": package.content_hash}
    assert "spec" not in stored and "subprocess_specs" not in stored
    for marker in (
        "priority_decision",
        "formJsonSchemaFilename",
        "<bpmn:",
        "conditionExpression",
        "事件检测和记录",
    ):
        assert marker not in result.snapshot
    assert len(result.snapshot) < 8000


def test_snapshot_of_another_version_is_refused(engine: Engine) -> None:
    package = load("simple")
    result = engine.start(package, INCIDENT)
    text = (FIXTURES / "simple.bpmn").read_text(encoding="utf-8").replace("调查和分析", "调查")
    other = load_package(text, FIXTURES, forms=FORMS, lane_role=lane_role, filename="simple.bpmn")
    with pytest.raises(SnapshotError, match="belongs to process simple version"):
        engine.state(other, result.snapshot)
    with pytest.raises(SnapshotError, match="not written by this engine"):
        engine.state(package, json.dumps({"spec": {}, "serializer_version": "1.5"}))
    with pytest.raises(SnapshotError, match="not valid JSON"):
        engine.state(package, "{")


def test_state_changes_nothing(engine: Engine) -> None:
    package = load("simple")
    result = engine.start(package, INCIDENT)
    state = engine.state(package, result.snapshot)
    assert state.snapshot == result.snapshot
    assert state.facts == [] and state.messages == [] and state.calls == []


def test_cancel(engine: Engine) -> None:
    package = load("simple")
    result = engine.start(package, INCIDENT)
    cancelled = engine.cancel(package, result.snapshot)
    assert cancelled.status == "cancelled"
    assert cancelled.open_tasks == [] and cancelled.timers == []
    assert [f.kind for f in cancelled.facts] == ["cancelled"]
    assert engine.state(package, cancelled.snapshot).status == "cancelled"


def test_gateway_condition_on_missing_data_names_the_element(engine: Engine) -> None:
    package = load("simple")
    data = {k: v for k, v in INCIDENT.items() if k != "desk_can_fix"}
    with pytest.raises(ScriptError) as excinfo:
        engine.start(package, data)
    assert excinfo.value.element_id == "route"
    assert "desk_can_fix" in str(excinfo.value)


def test_dmn_input_missing_names_the_business_rule_task(engine: Engine) -> None:
    package = load("simple")
    data = {k: v for k, v in INCIDENT.items() if k != "urgency"}
    with pytest.raises(ScriptError) as excinfo:
        engine.start(package, data)
    assert excinfo.value.element_id == "classify"
    assert "'urgency'" in str(excinfo.value)


def test_parallel_multi_instance_user_task_one_task_per_voter(engine: Engine) -> None:
    text = (
        (FIXTURES / "simple.bpmn")
        .read_text(encoding="utf-8")
        .replace(
            "      <bpmn:incoming>f_l1</bpmn:incoming>\n      <bpmn:outgoing>f5</bpmn:outgoing>\n",
            "      <bpmn:incoming>f_l1</bpmn:incoming>\n      <bpmn:outgoing>f5</bpmn:outgoing>\n"
            "      <bpmn:multiInstanceLoopCharacteristics>\n"
            "        <bpmn:loopDataInputRef>voters</bpmn:loopDataInputRef>\n"
            "        <bpmn:loopDataOutputRef>votes</bpmn:loopDataOutputRef>\n"
            '        <bpmn:inputDataItem id="voter" name="voter" />\n'
            '        <bpmn:outputDataItem id="vote" name="vote" />\n'
            "      </bpmn:multiInstanceLoopCharacteristics>\n",
        )
    )
    package = load_package(text, FIXTURES, forms=FORMS, lane_role=lane_role, filename="simple.bpmn")
    result = engine.start(package, {**INCIDENT, "voters": ["li", "wang"]})
    assert [(t.element_id, t.role, t.data["voter"]) for t in result.open_tasks] == [
        ("investigate", "support_l1", "li"),
        ("investigate", "support_l1", "wang"),
    ]
    for task in result.open_tasks:
        result = engine.complete_task(
            package, result.snapshot, task.task_id, {"vote": task.data["voter"] == "li"}
        )
    assert result.data["votes"] == [True, False]
    assert [t.element_id for t in result.open_tasks] == ["resolve"]
