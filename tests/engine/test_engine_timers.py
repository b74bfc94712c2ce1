"""Timers on an injected clock: nothing sleeps; a timer fires only once the clock reaches it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import Engine, ProcessLoadError, load_package
from tests.engine.engine_support import FIXTURES, FORMS, FakeClock, lane_role, load

TIMERS = (FIXTURES / "timers.bpmn").read_text(encoding="utf-8")


def due(result, element: str) -> datetime:
    return next(t.due_at for t in result.timers if t.element_id == element)


def test_timers_wait_with_aware_utc_due_times(engine: Engine, clock: FakeClock) -> None:
    package = load("timers")
    result = engine.start(package, {"title": "VPN down"})
    assert [t.element_id for t in result.open_tasks] == ["investigate"]
    assert due(result, "sla_breach") == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # PT1H, unquoted
    assert due(result, "reminder") == datetime(2026, 3, 1, 8, 20, tzinfo=UTC)  # R2/PT20M, unquoted
    assert all(t.due_at.tzinfo is UTC for t in result.timers)
    assert {"sla_breach", "reminder", "investigate"} <= set(result.active_elements)


def test_timer_fires_only_once_the_clock_passes_its_due_time(engine: Engine, clock: FakeClock) -> None:
    package = load("timers")
    result = engine.start(package, {"title": "VPN down"})
    clock.advance(minutes=59, seconds=59)
    result = engine.fire_due_timers(package, result.snapshot)
    assert [t.element_id for t in result.open_tasks] == ["investigate"]
    assert "sla_breach" not in result.completed_elements
    clock.advance(seconds=1)
    result = engine.fire_due_timers(package, result.snapshot)
    assert [t.element_id for t in result.open_tasks] == ["escalate"]  # interrupting: investigate gone
    assert result.open_tasks[0].role == "support_l2"
    assert "sla_breach" in result.completed_elements
    assert "investigate" not in result.completed_elements
    assert result.timers == []


def test_overdue_timers_fire_in_due_order(engine: Engine, clock: FakeClock) -> None:
    package = load("timers")
    result = engine.start(package, {"title": "VPN down"})
    clock.advance(hours=2)
    result = engine.fire_due_timers(package, result.snapshot)
    # The two reminders (08:20, 08:40) come before the interrupting deadline (09:00).
    assert [c.kwargs for c in result.calls] == [{"to": "support_l1", "text": "still open: VPN down"}] * 2
    assert [c.element_id for c in result.calls] == ["remind", "remind"]
    assert [t.element_id for t in result.open_tasks] == ["escalate"]


def test_non_interrupting_cycle_keeps_the_task_open(engine: Engine, clock: FakeClock) -> None:
    package = load("timers")
    result = engine.start(package, {"title": "VPN down"})
    clock.advance(minutes=25)
    result = engine.fire_due_timers(package, result.snapshot)
    assert [t.element_id for t in result.open_tasks] == ["investigate"]
    assert len(result.calls) == 1
    assert due(result, "reminder") == datetime(2026, 3, 1, 8, 40, tzinfo=UTC)
    assert due(result, "sla_breach") == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_date_timer_with_offset(engine: Engine, clock: FakeClock) -> None:
    package = load("timers")
    result = engine.start(package, {"title": "VPN down"})
    result = engine.complete_task(package, result.snapshot, result.open_tasks[0].task_id, {})
    assert [(t.element_id, t.due_at) for t in result.timers] == [
        ("wait_until", datetime(2026, 3, 1, 16, 0, tzinfo=UTC))
    ]  # 2026-03-02T00:00+08:00
    clock.now = datetime(2026, 3, 1, 15, 59, tzinfo=UTC)
    assert engine.fire_due_timers(package, result.snapshot).status == "running"
    clock.now = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert engine.fire_due_timers(package, result.snapshot).status == "completed"


def test_timers_survive_snapshots(clock: FakeClock) -> None:
    package = load("timers")
    first = Engine(clock=clock, platform_functions={"notify"})
    result = first.start(package, {"title": "VPN down"})
    clock.advance(hours=1)
    later = Engine(clock=clock, platform_functions={"notify"})
    assert [t.element_id for t in later.fire_due_timers(package, result.snapshot).open_tasks] == ["escalate"]


@pytest.mark.parametrize(
    "expression",
    ['"PT1H"', "PT1H", "P1DT2H", "PT0.5S"],
)
def test_quoted_and_unquoted_durations_are_accepted(expression: str) -> None:
    text = TIMERS.replace(
        "<bpmn:timeDuration>PT1H</bpmn:timeDuration>", f"<bpmn:timeDuration>{expression}</bpmn:timeDuration>"
    )
    load_package(text, {}, forms=FORMS, lane_role=lane_role, filename="timers.bpmn")


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            "<bpmn:timeDate>2026-03-02T00:00:00+08:00",
            "<bpmn:timeDate>2026-03-02T00:00:00",
            "has no time zone",
        ),
        ("<bpmn:timeCycle>R2/PT20M", "<bpmn:timeCycle>R/2026-03-02T00:00:00/P1D", "has no time zone"),
        ("<bpmn:timeDuration>PT1H", "<bpmn:timeDuration>PT1X", "looks like ISO 8601"),
        ("<bpmn:timeDuration>PT1H", "<bpmn:timeDuration>2026-03-02T00:00:00Z", "not an ISO 8601 duration"),
        ("<bpmn:timeDuration>PT1H", "<bpmn:timeDuration>sla +", "not a valid expression"),
    ],
)
def test_bad_timer_expressions_are_refused(old: str, new: str, fragment: str) -> None:
    with pytest.raises(ProcessLoadError) as excinfo:
        load_package(TIMERS.replace(old, new), {}, forms=FORMS, lane_role=lane_role, filename="timers.bpmn")
    assert any(
        fragment in p.message and p.file == "timers.bpmn" and p.element_id for p in excinfo.value.problems
    )


def test_timer_expression_over_task_data(engine: Engine, clock: FakeClock) -> None:
    text = TIMERS.replace(
        "<bpmn:timeDuration>PT1H</bpmn:timeDuration>",
        '<bpmn:timeDuration>"PT" + str(sla_hours) + "H"</bpmn:timeDuration>',
    )
    package = load_package(text, {}, forms=FORMS, lane_role=lane_role, filename="timers.bpmn")
    result = engine.start(package, {"title": "VPN down", "sla_hours": 4})
    assert due(result, "sla_breach") == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_timer_start_event_becomes_the_schedule(engine: Engine) -> None:
    cycle = "R/2027-01-01T00:00:00+08:00/P1Y"
    text = TIMERS.replace(
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>',
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing><bpmn:timerEventDefinition id="yearly">'
        f"<bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>",
    )
    package = load_package(text, {}, forms=FORMS, lane_role=lane_role, filename="timers.bpmn")
    assert package.start_timer == cycle
    result = engine.start(package, {"title": "yearly drill"})  # started by the platform's scheduler
    assert [t.element_id for t in result.open_tasks] == ["record"]
    assert result.timers == []
