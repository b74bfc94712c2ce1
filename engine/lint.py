"""Lint for BPMN and DMN files: the platform's rules on top of the XSD and SpiffWorkflow's parser.

Every problem names the file, the element, what is wrong and what to do; all problems are
collected so a process owner sees them at once.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import PurePath

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .errors import Problem
from .expressions import (
    AWARE_RE,
    CYCLE_RE,
    DATETIME_RE,
    DURATION_RE,
    check_syntax,
    iso_timer_literal,
)
from .script_engine import dmn_cell_expression
from .scripts import check_script

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_PROPERTY = "formJsonSchemaFilename"
HIT_POLICIES = {"UNIQUE", "COLLECT"}

LaneRole = Callable[[str], "str | None"]


def _xp(node: etree._Element, path: str) -> list[etree._Element]:
    return node.xpath(path, namespaces=NS)


def _text(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


def executable_processes(root: etree._Element) -> list[etree._Element]:
    """The executable processes of a BPMN document (every process if none is flagged)."""
    processes = _xp(root, "./bpmn:process")
    flagged = [p for p in processes if p.get("isExecutable") == "true"]
    return flagged or processes


def form_of(task: etree._Element) -> str | None:
    """The ``formJsonSchemaFilename`` property of a user task, if any."""
    values = _xp(
        task,
        "./bpmn:extensionElements/spiffworkflow:properties/"
        f"spiffworkflow:property[@name='{FORM_PROPERTY}']/@value",
    )
    return str(values[0]).strip() if values else None


def properties_of(element: etree._Element) -> dict[str, str]:
    """Every ``spiffworkflow:property`` of an element as ``name -> value``."""
    found = _xp(element, "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property")
    return {str(p.get("name")): str(p.get("value") or "") for p in found if p.get("name")}


def decision_of(task: etree._Element) -> str | None:
    """The ``spiffworkflow:calledDecisionId`` of a business rule task, if any."""
    return (
        _text(next(iter(_xp(task, "./bpmn:extensionElements/spiffworkflow:calledDecisionId")), None)) or None
    )


def lane_index(process: etree._Element) -> dict[str, etree._Element]:
    """Map flow node id → the (innermost) lane element that holds it."""
    index: dict[str, etree._Element] = {}
    for ref in _xp(process, ".//bpmn:lane/bpmn:flowNodeRef"):
        if ref.text:
            index[ref.text.strip()] = ref.getparent()
    return index


def lane_of(element: etree._Element, index: dict[str, etree._Element]) -> etree._Element | None:
    """The lane of ``element``, or of the nearest enclosing subprocess that is in a lane."""
    node: etree._Element | None = element
    while node is not None:
        lane = index.get(node.get("id") or "")
        if lane is not None:
            return lane
        node = node.getparent()
    return None


def _iso_problem(kind: str, value: str) -> str | None:
    if kind == "timeDuration":
        if not DURATION_RE.match(value):
            return f"'{value}' is not an ISO 8601 duration such as PT4H or P2D"
        try:
            TimerEventDefinition.parse_iso_duration(value)
        except Exception:
            return f"'{value}' is not a valid ISO 8601 duration"
        return None
    if kind == "timeDate":
        if not DATETIME_RE.match(value):
            return f"'{value}' is not an ISO 8601 date-time such as 2027-01-01T09:00:00+08:00"
        if not AWARE_RE.search(value):
            return f"the date-time '{value}' has no time zone"
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"'{value}' is not a valid date-time"
        return None
    if not CYCLE_RE.match(value):
        return f"'{value}' is not an ISO 8601 cycle such as R3/PT1H or R/2027-01-01T00:00:00+08:00/P1Y"
    for part in value.split("/")[1:]:
        if DATETIME_RE.match(part) and not AWARE_RE.search(part):
            return f"the date-time '{part}' in the cycle has no time zone"
    return None


def timer_problem(kind: str, text: str) -> str | None:
    """Return what is wrong with a timer expression, or ``None``.

    :param kind: ``timeDate``, ``timeDuration`` or ``timeCycle``.
    :param text: the expression: an ISO 8601 literal (quoted or not) or a safe expression.
    """
    text = text.strip()
    if not text:
        return "the timer has no expression"
    value = iso_timer_literal(text)
    if value is None:
        try:
            literal = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            literal = None
            problem = check_syntax(text)
            if problem:
                return f"the timer expression `{text}` is {problem}"
            if re.fullmatch(r"[PR][0-9A-Z./:+-]*", text) or re.fullmatch(r"\d{4}-[0-9T:.+-]*", text):
                return f"'{text}' looks like ISO 8601 but is not a valid value"
            return None  # an expression over task data; checked when evaluated
        if not isinstance(literal, str):
            return f"the timer expression `{text}` is not an ISO 8601 text"
        value = literal.strip()
    return _iso_problem(kind, value)


class BpmnLint:
    """Checks one BPMN document against the platform's rules.

    :param file: the file name, used in every problem.
    :param forms: the file names available in forms/.
    :param lane_role: resolves a lane name to a role id (or ``None``).
    :param decisions: decision ids available in the DMN files.
    """

    def __init__(
        self, file: str, *, forms: Collection[str], lane_role: LaneRole, decisions: Collection[str]
    ) -> None:
        self.file = file
        self.forms = forms
        self.lane_role = lane_role
        self.decisions = set(decisions)
        self.problems: list[Problem] = []

    def _add(self, element: etree._Element | str | None, what: str, todo: str) -> None:
        element_id = element if isinstance(element, str) or element is None else element.get("id")
        self.problems.append(Problem(self.file, element_id, what, todo))

    def run(self, root: etree._Element) -> list[Problem]:
        """Lint the document whose root is ``root``; return the problems found."""
        processes = executable_processes(root)
        if len(processes) != 1:
            self._add(
                None,
                f"the file has {len(processes)} executable processes, not one",
                "Keep exactly one executable process per file.",
            )
        stem = PurePath(self.file).stem
        for process in processes:
            if self.file.endswith(".bpmn") and process.get("id") != stem:
                self._add(
                    process,
                    f"the process id '{process.get('id')}' differs from the file name",
                    f"Name the file {process.get('id')}.bpmn or set the process id to '{stem}'.",
                )
            self._lanes(process)
            self._user_tasks(process)
            self._business_rules(process)
            self._scripts(process)
        self._timers(root)
        self._messages(root)
        self._expressions(root)
        return self.problems

    def _lanes(self, process: etree._Element) -> None:
        for lane in _xp(process, ".//bpmn:lane"):
            name = (lane.get("name") or "").strip()
            if not name or self.lane_role(name) is None:
                self._add(
                    lane,
                    f"the lane '{name}' does not name a known role",
                    "Name the lane like '服务台 (service_desk)' or use a role id.",
                )

    def _user_tasks(self, process: etree._Element) -> None:
        index = lane_index(process)
        for task in _xp(process, ".//bpmn:userTask"):
            form = form_of(task)
            if not form:
                self._add(
                    task,
                    "the user task names no form",
                    f"Add the spiffworkflow property {FORM_PROPERTY} with a file from forms/.",
                )
            elif form not in self.forms:
                self._add(
                    task,
                    f"the user task's form '{form}' is not in forms/",
                    "Add the form file or correct the name.",
                )
            if lane_of(task, index) is None:
                self._add(
                    task, "the user task is not in a lane", "Move it into the lane of the role that does it."
                )

    def _business_rules(self, process: etree._Element) -> None:
        for task in _xp(process, ".//bpmn:businessRuleTask"):
            decision = decision_of(task)
            if not decision:
                self._add(
                    task,
                    "the business rule task names no decision",
                    "Set spiffworkflow:calledDecisionId to the id of a DMN decision.",
                )
            elif decision not in self.decisions:
                self._add(
                    task,
                    f"the decision '{decision}' is in no DMN file",
                    "Add the DMN file to processes/ or correct the decision id.",
                )

    def _scripts(self, process: etree._Element) -> None:
        for task in _xp(process, ".//bpmn:scriptTask"):
            script = _text(next(iter(_xp(task, "./bpmn:script")), None))
            if not script:
                self._add(task, "the script task has no script", "Write the script or use a plain task.")
            elif problem := check_script(script):
                self._add(
                    task,
                    f"the script is refused: {problem}",
                    "Scripts may only read and set task data and call platform functions.",
                )
        for node in _xp(process, ".//spiffworkflow:preScript | .//spiffworkflow:postScript"):
            owner = node.getparent().getparent()
            if _text(node) and (problem := check_script(_text(node))):
                self._add(
                    owner,
                    f"the {etree.QName(node).localname} is refused: {problem}",
                    "Scripts may only read and set task data and call platform functions.",
                )

    def _timers(self, root: etree._Element) -> None:
        for definition in _xp(root, ".//bpmn:timerEventDefinition"):
            event = definition.getparent()
            specs = [c for c in definition if isinstance(c.tag, str)]
            spec = next(
                (c for c in specs if etree.QName(c).localname in ("timeDate", "timeDuration", "timeCycle")),
                None,
            )
            if spec is None:
                self._add(
                    event,
                    "the timer has no timeDate, timeDuration or timeCycle",
                    "Set the timer's type and value in the modeler.",
                )
                continue
            problem = timer_problem(etree.QName(spec).localname, spec.text or "")
            if problem:
                self._add(
                    event,
                    problem,
                    "Write PT4H, 2027-01-01T09:00:00+08:00 or R3/PT1H "
                    "(date-times always with an offset), or an expression over task data.",
                )

    def _messages(self, root: etree._Element) -> None:
        correlated = {str(m) for m in _xp(root, ".//bpmn:correlationPropertyRetrievalExpression/@messageRef")}
        catchers = _xp(root, ".//bpmn:intermediateCatchEvent | .//bpmn:boundaryEvent | .//bpmn:receiveTask")
        for event in catchers:
            definitions = _xp(event, "./bpmn:messageEventDefinition")
            if not definitions and not (event.tag.endswith("receiveTask") and event.get("messageRef")):
                continue
            ref = event.get("messageRef") or (definitions[0].get("messageRef") if definitions else None)
            if not ref:
                self._add(event, "the message event names no message", "Choose a message in the modeler.")
                continue
            has_process_correlation = bool(_xp(event, ".//spiffworkflow:processVariableCorrelation"))
            if ref not in correlated and not has_process_correlation:
                self._add(
                    event,
                    f"the message '{ref}' is caught without correlation, so any instance would accept it",
                    "Add a correlation key and property with a "
                    "retrieval expression for this message (e.g. the business key).",
                )

    def _expressions(self, root: etree._Element) -> None:
        for node in _xp(root, ".//bpmn:conditionExpression"):
            if _text(node) and (problem := check_syntax(_text(node))):
                self._add(
                    node.getparent(),
                    f"the condition `{_text(node)}` is {problem}",
                    'Write a comparison over task data, e.g. impact == "high".',
                )
        paths = ".//spiffworkflow:messagePayload | .//bpmn:correlationPropertyRetrievalExpression/*"
        for node in _xp(root, paths):
            if _text(node) and (problem := check_syntax(_text(node))):
                owner = node.getparent()
                while owner is not None and not owner.get("id"):
                    owner = owner.getparent()
                self._add(
                    owner,
                    f"the expression `{_text(node)}` is {problem}",
                    "Write an expression over task data or the message payload.",
                )


def lint_dmn(root: etree._Element, file: str) -> list[Problem]:
    """Check a DMN document: hit policies, and every cell parses for the safe evaluator."""
    problems: list[Problem] = []
    for table in root.iter("{*}decisionTable"):
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in HIT_POLICIES:
            problems.append(
                Problem(
                    file,
                    table.get("id"),
                    f"the hit policy {policy} is not supported",
                    "Use UNIQUE (first matching rule) or COLLECT.",
                )
            )
        inputs = [
            (_text(next(iter(i.iter("{*}text")), None)) or "x") for i in table.iter("{*}inputExpression")
        ]
        for index, expr in enumerate(inputs):
            if problem := check_syntax(expr):
                problems.append(
                    Problem(
                        file,
                        table.get("id"),
                        f"input {index + 1} `{expr}` is {problem}",
                        "Write the input as an expression over task data.",
                    )
                )
        for rule in table.iter("{*}rule"):
            for kind in ("inputEntry", "outputEntry"):
                for entry in rule.iter("{*}" + kind):
                    text = _text(next(iter(entry.iter("{*}text")), None))
                    expr = dmn_cell_expression("x", text) if kind == "inputEntry" else (text or None)
                    if expr and (problem := check_syntax(expr)):
                        problems.append(
                            Problem(
                                file,
                                rule.get("id"),
                                f"the cell `{text}` is {problem}",
                                'Write "text" (quoted), a number, < 3, "a","b" or -.',
                            )
                        )
    return problems
