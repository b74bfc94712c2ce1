"""Loading process packages: safe XML, XSD validation, SpiffWorkflow parsing, lint, content hash.

A package is a BPMN file plus exactly the DMN files it references. Parsed specs are cached per
(process id, content hash), so restoring an instance never re-parses nor reads the spec from its
snapshot.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .errors import Problem, ProcessLoadError
from .lint import (
    BpmnLint,
    _xp,
    decision_of,
    executable_processes,
    form_of,
    lane_index,
    lane_of,
    lint_dmn,
    properties_of,
)
from .parser import PlatformParser, problem_from_spiff, timer_definitions
from .results import ProcessPackage, UserTaskSpec
from .xml import parse_xml

LaneRole = Callable[[str], "str | None"]
Specs = tuple[Any, dict[str, Any]]

_CACHE_SIZE = 128
_cache: OrderedDict[tuple[str, str], Specs] = OrderedDict()
_cache_lock = threading.Lock()


def content_hash(bpmn_text: str, dmn_texts: Mapping[str, str]) -> str:
    """sha256 over the BPMN text and the referenced DMN texts (sorted by file name)."""
    digest = hashlib.sha256(bpmn_text.encode("utf-8"))
    for name in sorted(dmn_texts):
        digest.update(b"\x00dmn\x00")
        digest.update(dmn_texts[name].encode("utf-8"))
    return digest.hexdigest()


def _read_bpmn(source: str | Path, filename: str | None) -> tuple[str, str]:
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("<")):
        path = Path(source)
        return path.read_text(encoding="utf-8"), filename or path.name
    return source, filename or "process.bpmn"


def _read_dmns(source: str | Path | Mapping[str, str] | None) -> dict[str, str]:
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return dict(source)
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(source).glob("*.dmn"))}


def _decision_files(dmns: Mapping[str, str], problems: list[Problem]) -> dict[str, tuple[str, Any]]:
    """Map decision id → (file name, parsed root) over the candidate DMN files."""
    found: dict[str, tuple[str, Any]] = {}
    for name, text in sorted(dmns.items()):
        try:
            root = parse_xml(text, name)
        except ProcessLoadError as exc:
            problems.extend(exc.problems)
            continue
        for decision in root.iter("{*}decision"):
            if decision.get("id"):
                found[decision.get("id")] = (name, root)
    return found


def _parse_specs(
    bpmn_root: Any, bpmn_file: str, dmn_roots: Mapping[str, Any], process_id: str
) -> tuple[Specs | None, list[Problem]]:
    """Parse with XSD validation; return (spec, subprocess specs) or the problems."""
    parser = PlatformParser()
    problems: list[Problem] = []
    for name, root in sorted(dmn_roots.items()):
        try:
            parser.add_dmn_xml(root, filename=name)
        except (SpiffWorkflowException, etree.LxmlError) as exc:
            problems.append(problem_from_spiff(exc, name, root, hint="Fix the DMN file in the modeler."))
    try:
        parser.add_bpmn_xml(bpmn_root, filename=bpmn_file)
    except (SpiffWorkflowException, etree.LxmlError) as exc:
        problems.append(
            problem_from_spiff(
                exc, bpmn_file, bpmn_root, hint="Fix the diagram so that it matches BPMN 2.0 (XSD)."
            )
        )
        return None, problems
    if problems:
        return None, problems
    try:
        spec = parser.get_spec(process_id)
        subprocesses = parser.get_subprocess_specs(process_id)
    except (SpiffWorkflowException, etree.LxmlError, KeyError, IndexError) as exc:
        return None, [problem_from_spiff(exc, bpmn_file, bpmn_root, hint="Fix the element in the modeler.")]
    return (spec, subprocesses), []


def _detach_timer_start(spec: Any) -> tuple[str | None, str | None]:
    """Turn a timer start event into a none start event; return its expression (the schedule) and its id.

    Timer start events never create instances; the platform's scheduler does, one per occurrence.
    """
    schedule = element = None
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent):
            timers = timer_definitions(task_spec.event_definition)
            if timers:
                schedule = timers[0].expression.strip()
                element = task_spec.bpmn_id
                task_spec.event_definition = NoneEventDefinition(description="Default")
    return schedule, element


def _start_task(process: Any) -> str | None:
    """The user task directly after the process's none start event, if any."""
    for start in _xp(process, "./bpmn:startEvent"):
        if any(isinstance(c.tag, str) and c.tag.endswith("EventDefinition") for c in start):
            continue
        outgoing = _xp(process, f"./bpmn:sequenceFlow[@sourceRef='{start.get('id')}']")
        if len(outgoing) == 1:
            target = _xp(process, f"./bpmn:userTask[@id='{outgoing[0].get('targetRef')}']")
            if target:
                return target[0].get("id")
    return None


def _cache_put(key: tuple[str, str], specs: Specs) -> None:
    with _cache_lock:
        _cache[key] = specs
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def load_package(
    bpmn_path_or_text: str | Path,
    dmn_dir_or_texts: str | Path | Mapping[str, str] | None = None,
    *,
    forms: Collection[str],
    lane_role: LaneRole,
    filename: str | None = None,
) -> ProcessPackage:
    """Load, validate and lint one process; return its package (and cache its parsed spec).

    :param bpmn_path_or_text: a path to a ``.bpmn`` file, or the BPMN XML text.
    :param dmn_dir_or_texts: a directory of ``.dmn`` files, or a mapping file name → DMN text.
    :param forms: the form file names available in forms/.
    :param lane_role: resolves a lane name to a role id, or ``None`` if it names no role.
    :param filename: the BPMN file name when text is given (default ``process.bpmn``).
    :raises ProcessLoadError: listing every problem found (``.problems``).
    """
    package, specs = _load(bpmn_path_or_text, dmn_dir_or_texts, forms, lane_role, filename)
    _cache_put((package.process_id, package.content_hash), specs)
    return package


def _load(
    bpmn_path_or_text: str | Path,
    dmn_dir_or_texts: str | Path | Mapping[str, str] | None,
    forms: Collection[str],
    lane_role: LaneRole,
    filename: str | None,
) -> tuple[ProcessPackage, Specs]:
    bpmn_text, bpmn_file = _read_bpmn(bpmn_path_or_text, filename)
    root = parse_xml(bpmn_text, bpmn_file)
    problems: list[Problem] = []
    dmn_problems: list[Problem] = []
    decisions = _decision_files(_read_dmns(dmn_dir_or_texts), dmn_problems)
    processes = executable_processes(root)
    referenced = {d for p in processes for t in _xp(p, ".//bpmn:businessRuleTask") if (d := decision_of(t))}
    if referenced - set(decisions):
        # A broken DMN file matters only if it may hold a decision this process needs.
        problems.extend(dmn_problems)
    used = {decisions[d][0]: decisions[d][1] for d in referenced if d in decisions}
    dmn_texts = {name: text for name, text in _read_dmns(dmn_dir_or_texts).items() if name in used}
    for name, dmn_root in used.items():
        problems.extend(lint_dmn(dmn_root, name))
    problems.extend(BpmnLint(bpmn_file, forms=forms, lane_role=lane_role, decisions=decisions).run(root))
    if not processes:
        raise ProcessLoadError.from_problems(problems)
    process = processes[0]
    process_id = process.get("id")
    specs, parse_problems = _parse_specs(root, bpmn_file, used, process_id)
    problems = parse_problems + problems
    if problems or specs is None:
        raise ProcessLoadError.from_problems(problems)
    start_timer, timer_start_id = _detach_timer_start(specs[0])
    package = ProcessPackage(
        process_id=process_id,
        name=process.get("name") or process_id,
        content_hash=content_hash(bpmn_text, dmn_texts),
        files={bpmn_file: bpmn_text, **dmn_texts},
        user_tasks=_user_tasks(process, lane_role),
        start_task=_start_task(process),
        lanes={
            (lane.get("name") or ""): lane_role(lane.get("name") or "") or ""
            for lane in _xp(process, ".//bpmn:lane")
        },
        start_timer=start_timer,
        timer_start_id=timer_start_id,
        start_messages=tuple(_start_messages(root, process)),
        element_properties={
            element.get("id"): props
            for element in _xp(process, ".//*[@id]")
            if (props := properties_of(element))
        },
        boundary_events={
            event.get("id"): (event.get("attachedToRef"), event.get("cancelActivity", "true") != "false")
            for event in _xp(process, ".//bpmn:boundaryEvent")
        },
        element_names={
            element.get("id"): element.get("name") or element.get("id")
            for element in _xp(process, ".//*[@id]")
            if element.get("id") and not element.tag.endswith(("laneSet", "lane"))
        },
    )
    return package, specs


def _user_tasks(process: Any, lane_role: LaneRole) -> dict[str, UserTaskSpec]:
    index = lane_index(process)
    tasks = {}
    for task in _xp(process, ".//bpmn:userTask"):
        lane = lane_of(task, index)
        lane_name = (lane.get("name") or "") if lane is not None else ""
        docs = _xp(task, "./bpmn:documentation")
        tasks[task.get("id")] = UserTaskSpec(
            element_id=task.get("id"),
            name=task.get("name") or task.get("id"),
            lane=lane_name,
            role=lane_role(lane_name) or "",
            form=form_of(task) or "",
            documentation=(docs[0].text or "").strip() or None if docs else None,
        )
    return tasks


def _start_messages(root: Any, process: Any) -> list[str]:
    names = {m.get("id"): m.get("name") or m.get("id") for m in _xp(root, "./bpmn:message")}
    return [
        names.get(d.get("messageRef"), d.get("messageRef"))
        for d in _xp(process, "./bpmn:startEvent/bpmn:messageEventDefinition")
        if d.get("messageRef")
    ]


def load_directory(
    processes_dir: str | Path, *, forms: Collection[str], lane_role: LaneRole
) -> dict[str, ProcessPackage]:
    """Load every ``*.bpmn`` in ``processes_dir`` (DMNs from the same folder).

    :raises ProcessLoadError: listing the problems of every file that failed.
    """
    packages: dict[str, ProcessPackage] = {}
    problems: list[Problem] = []
    folder = Path(processes_dir)
    _decision_files(_read_dmns(folder), problems)  # every DMN file must at least parse safely
    for path in sorted(folder.glob("*.bpmn")):
        try:
            package = load_package(path, folder, forms=forms, lane_role=lane_role)
        except ProcessLoadError as exc:
            problems.extend(exc.problems)
            continue
        packages[package.process_id] = package
    if problems:
        raise ProcessLoadError.from_problems(problems)
    return packages


def specs_for(package: ProcessPackage) -> Specs:
    """Return the parsed (spec, subprocess specs) of ``package``, from the cache or its files."""
    key = (package.process_id, package.content_hash)
    with _cache_lock:
        specs = _cache.get(key)
        if specs is not None:
            _cache.move_to_end(key)
            return specs
    bpmn_file = package.bpmn_file
    dmns = {name: text for name, text in package.files.items() if name != bpmn_file}
    reloaded, specs = _load(
        package.files[bpmn_file],
        dmns,
        _AnyForm(),
        lambda name: package.lanes.get(name) or name,
        bpmn_file,
    )
    if reloaded.content_hash != package.content_hash:
        raise ProcessLoadError("the package's files do not match its content hash", file=bpmn_file)
    _cache_put(key, specs)
    return specs


class _AnyForm(Collection[str]):
    """Accepts every form name: a package being re-parsed was linted when it was loaded."""

    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(())

    def __len__(self) -> int:
        return 0
