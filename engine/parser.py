"""SpiffWorkflow's parser configured for the platform: XSD validation, clock timers, safe DMN."""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .errors import Problem
from .script_engine import CLOCK_TIMERS, SafeDMNEngine
from .xml import element_at_line


class _ClockTimerMixin:
    """Makes parsed timer definitions read the engine clock (see script_engine)."""

    def parse_timer_event(self, event: Any) -> Any:
        definition = super().parse_timer_event(event)  # type: ignore[misc]
        clock_class = CLOCK_TIMERS.get(type(definition))
        if clock_class is not None:
            # The clock classes add no state, only behaviour, so swapping the class is exact.
            definition.__class__ = clock_class
        return definition


class _StartEventParser(_ClockTimerMixin, SpiffStartEventParser):
    pass


class _IntermediateCatchEventParser(_ClockTimerMixin, SpiffIntermediateCatchEventParser):
    pass


class _BoundaryEventParser(_ClockTimerMixin, SpiffBoundaryEventParser):
    pass


class PlatformParser(SpiffBpmnParser):
    """SpiffBpmnParser with XSD validation on, clock-driven timers and the safe DMN engine."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (_IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (_BoundaryEventParser, BoundaryEvent),
    }

    def __init__(self) -> None:
        super().__init__(validator=VALIDATOR)

    def get_engine(self, decision_ref: str, node: Any) -> SafeDMNEngine:
        """Return the safe DMN engine for the decision ``decision_ref``."""
        engine = super().get_engine(decision_ref, node)
        return SafeDMNEngine(engine.decision_table)


def timer_definitions(definition: Any) -> list[Any]:
    """Flatten a (possibly multiple) event definition into its timer definitions."""
    if isinstance(definition, MultipleEventDefinition):
        return [d for sub in definition.event_definitions for d in timer_definitions(sub)]
    return [definition] if type(definition) in CLOCK_TIMERS.values() else []


def problem_from_spiff(
    exc: Exception, file: str, root: etree._Element | None, *, hint: str | None = None
) -> Problem:
    """Turn a SpiffWorkflow validation/parse exception into a Problem naming file and element."""
    element = None
    line = getattr(exc, "line_number", None)
    if isinstance(exc, ValidationException):
        element = getattr(exc, "id", None) or None
        file = getattr(exc, "file_name", None) or file
    if element is None and root is not None and isinstance(line, int):
        element = element_at_line(root, line)
    message = str(exc.args[0]) if exc.args else str(exc)
    if isinstance(exc, SpiffWorkflowException) and not isinstance(exc, ValidationException):
        message = str(exc)
    if isinstance(line, int) and line:
        message = f"{message} (line {line})"
    return Problem(file, element, message, hint)
