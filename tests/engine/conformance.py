"""Conformance of a shipped process to spec/processes.md: each seed step is an element, named as the seed
names it, in the lane of the responsible role, and the file passes the platform's lint.

Each process has its own ``test_conformance_<process>.py`` calling ``check_conformance`` with its table.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from engine import load_package

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = {path.name for path in (ROOT / "forms").glob("*.json")}
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
SPEC = ROOT.parent / "shared" / "spec" / "processes.md"


def spec_roles() -> set[str]:
    """The role ids of the roles table of spec/processes.md (the lanes a process may use)."""
    rows = re.findall(r"^\| ([a-z0-9_, ]+) \|", SPEC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    roles = {role.strip() for row in rows for role in row.split(",")}
    return roles - {"", "role id"}


ROLES = spec_roles()


def lane_role(name: str | None) -> str | None:
    """``服务台 (service_desk)`` or a bare role id -> the role id, if the spec lists it."""
    text = (name or "").strip()
    match = re.search(r"[(（]\s*([a-z0-9_]+)\s*[)）]\s*$", text)
    role = match.group(1) if match else text
    return role if role in ROLES else None


def _tree(process_id: str):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(PROCESSES / f"{process_id}.bpmn"), parser)


def lanes_by_element(process_id: str) -> dict[str, str]:
    """Element id -> role id of the lane holding it (lanes list their flow nodes)."""
    tree = _tree(process_id)
    found = {}
    for lane in tree.iterfind(".//bpmn:lane", NS):
        role = lane_role(lane.get("name"))
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            found[ref.text.strip()] = role
    return found


def check_conformance(process_id: str, steps: list[tuple[str, str, str]]) -> None:
    """Assert that each ``(element id, seed step name, role)`` is in the BPMN as the table says, and it lints.

    :param steps: one row per seed step of spec/processes.md; the name must equal the element's name.
    """
    package = load_package(PROCESSES / f"{process_id}.bpmn", PROCESSES, forms=FORMS, lane_role=lane_role)
    assert package.process_id == process_id
    lanes = lanes_by_element(process_id)
    problems = []
    for element_id, name, role in steps:
        actual = package.element_names.get(element_id)
        if actual is None:
            problems.append(f"{element_id}: missing (seed step {name})")
            continue
        if actual != name:
            problems.append(f"{element_id}: named {actual!r}, the seed says {name!r}")
        if lanes.get(element_id) != role:
            problems.append(f"{element_id}: in lane {lanes.get(element_id)!r}, the seed's role is {role!r}")
    assert not problems, "\n".join(problems)
