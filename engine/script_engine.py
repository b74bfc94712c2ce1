"""SpiffWorkflow's script engine, timers and DMN engine, rebuilt on the safe evaluator.

Everything SpiffWorkflow would ``eval``/``exec`` comes through here: gateway conditions, timer
expressions, DMN cells, message payload and correlation expressions go to the safe evaluator;
script tasks (and pre/post scripts) go to the sandboxed script runner. Timers read the engine's
injected clock instead of ``datetime.now``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from . import expressions
from .errors import ScriptError
from .scripts import PlatformCall, ScriptRunner

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock: the current time, aware, in UTC."""
    return datetime.now(UTC)


def _element(task: Any) -> str | None:
    spec = getattr(task, "task_spec", None)
    return getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """The environment SpiffWorkflow calls directly for correlation and completion expressions."""

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Evaluate with the safe evaluator over ``external_context`` then ``context``."""
        return expressions.evaluate(expression, {**(external_context or {}), **context})

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Never used: scripts go through :meth:`SafeScriptEngine.execute`."""
        raise ScriptError("scripts can only run from a task", hint="This is a bug in engine/.")

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        """Service tasks are not supported; use a script calling a platform function."""
        raise ScriptError(
            "service tasks are not supported",
            hint="Use a script task that calls a platform function such as notify(...).",
        )


class SafeScriptEngine(PythonScriptEngine):
    """Routes evaluate() to the safe evaluator and execute() to the sandboxed runner.

    One instance serves one command: it collects the platform calls scripts make.

    :param runner: runs script tasks in a child process.
    :param clock: returns the current time (aware); timers read it.
    """

    def __init__(
        self,
        runner: ScriptRunner,
        clock: Clock = utc_now,
        lookups: dict[str, Callable[..., Any]] | None = None,
    ) -> None:
        super().__init__(environment=SafeEnvironment())
        self.runner = runner
        self.clock = clock
        #: Platform lookups expressions may call (pure functions of their arguments).
        self.lookups = dict(lookups or {})
        self.calls: list[PlatformCall] = []
        #: While catching up on overdue timers, the time being replayed (see Engine.fire_due_timers).
        self.replay_time: datetime | None = None

    def now(self) -> datetime:
        """The clock's current time (or the replayed time), converted to aware UTC."""
        value = self.replay_time or self.clock()
        if value.tzinfo is None:
            raise ScriptError("the engine clock returned a naive datetime", hint="Use aware UTC times.")
        return value.astimezone(UTC)

    def evaluate(self, task: Any, expression: str, external_context: dict | None = None) -> Any:
        """Evaluate ``expression`` over the task data (and any external context) safely."""
        names = {**(external_context or {}), **task.data}
        return expressions.evaluate(expression, names, element_id=_element(task), functions=self.lookups)

    def evaluate_timer(self, task: Any, expression: str) -> str:
        """Evaluate a timer expression; unquoted ISO 8601 literals are taken as they are."""
        value = expressions.iso_timer_literal(expression)
        if value is None:
            value = self.evaluate(task, expression)
        if isinstance(value, datetime):
            value = value.isoformat()
        if not isinstance(value, str):
            raise ScriptError(
                f"the timer expression `{expression.strip()}` gave {value!r}, not an ISO 8601 text",
                element_id=_element(task),
                hint="Write a duration such as PT4H, a date-time with offset, or a cycle R3/PT1H.",
            )
        for part in value.upper().lstrip("R0123456789").split("/"):
            if part[:1].isdigit() and "T" in part and not expressions.AWARE_RE.search(part):
                raise ScriptError(
                    f"the timer value {value} has a date-time without a time zone",
                    element_id=_element(task),
                    hint="Add an offset such as +08:00 or Z.",
                )
        return value

    def execute(self, task: Any, script: str, external_context: dict | None = None) -> bool:
        """Run ``script`` in the sandbox and replace the task data with its result."""
        data, calls = self.runner.run(script, task.data, element_id=_element(task) or "?")
        task.data.clear()
        task.data.update(data)
        self.calls.extend(calls)
        return True

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Service tasks are not supported."""
        raise ScriptError(
            "service tasks are not supported",
            element_id=_element(task),
            hint="Use a script task that calls a platform function such as notify(...).",
        )


def _now(my_task: Any) -> datetime:
    engine = my_task.workflow.script_engine
    return engine.now() if isinstance(engine, SafeScriptEngine) else utc_now()


def _timer_value(my_task: Any, expression: str) -> str:
    engine = my_task.workflow.script_engine
    if isinstance(engine, SafeScriptEngine):
        return engine.evaluate_timer(my_task, expression)
    return engine.evaluate(my_task, expression)


class ClockTimeDateEventDefinition(TimeDateEventDefinition):
    """A date timer that reads the engine clock; fires once the clock reaches the date."""

    def has_fired(self, my_task: Any) -> bool:
        """Compute the due time once, then compare it with the clock."""
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = _timer_value(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.parse_time_or_duration(event_value) <= _now(my_task):
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockDurationTimerEventDefinition(DurationTimerEventDefinition):
    """A duration timer that reads the engine clock."""

    def has_fired(self, my_task: Any) -> bool:
        """Fix the due time (clock + duration) when reached, then compare it with the clock."""
        event_value = my_task._get_internal_data("event_value")
        now = _now(my_task)
        if event_value is None:
            parsed = TimerEventDefinition.parse_iso_duration(_timer_value(my_task, self.expression))
            due = now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
            event_value = due.isoformat()
            my_task._set_internal_data(event_value=event_value)
        if TimerEventDefinition.get_datetime(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


def _parse_cycle(expression: str, now: datetime) -> tuple[int, datetime, timedelta]:
    components = expression.upper().replace("--", "/").strip("R").split("/")
    if len(components) == 2 and components[1].startswith("P"):
        cycles = int(components[0]) if components[0] else -1
        parsed = TimerEventDefinition.parse_iso_duration(components[1])
        duration = TimerEventDefinition.get_timedelta_from_start(parsed, now)
        return cycles, now + duration, duration
    return TimerEventDefinition.parse_iso_recurring_interval(expression)


class ClockCycleTimerEventDefinition(CycleTimerEventDefinition):
    """A cycle timer that reads the engine clock."""

    def cycle_complete(self, my_task: Any) -> bool:
        """Return True when the next occurrence has passed (one occurrence per refresh)."""
        event_value = my_task._get_internal_data("event_value")
        now = _now(my_task)
        if event_value is None:
            cycles, start, duration = _parse_cycle(_timer_value(my_task, self.expression), now)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


CLOCK_TIMERS: dict[type, type] = {
    TimeDateEventDefinition: ClockTimeDateEventDefinition,
    DurationTimerEventDefinition: ClockDurationTimerEventDefinition,
    CycleTimerEventDefinition: ClockCycleTimerEventDefinition,
}

_QUESTION = re.compile(r"""(\?)(?=(?:[^'"]|['"][^'"]*['"])*$)""")


def dmn_cell_expression(input_expr: str, cell: str) -> str | None:
    """Turn a DMN input entry into an expression over the input, or ``None`` for "any".

    ``"high"`` → equality, ``< 3`` → comparison, ``"a","b"`` → membership, ``-``/empty → any.
    """
    text = (cell or "").strip()
    if text in ("", "-"):
        return None
    if _QUESTION.search(text):
        return _QUESTION.sub(f"({input_expr})", text)
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return f"({input_expr}) {text}"
    if isinstance(node, ast.Tuple):
        return f"({input_expr}) in ({text})"
    return f"({input_expr}) == ({text})"


class SafeDMNEngine(DMNEngine):
    """DMNEngine whose cells are evaluated by the safe evaluator, with lists as membership."""

    def evaluate(self, input_expr: str, match_expr: str | None, task: Any) -> bool:
        """Return whether ``match_expr`` (a DMN input entry) matches ``input_expr``."""
        if match_expr is None:
            return True
        expression = dmn_cell_expression(input_expr, match_expr)
        if expression is None:
            return True
        return bool(task.workflow.script_engine.evaluate(task, expression))
