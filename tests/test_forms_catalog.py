"""The form catalogue (forms/*.json) is well formed and agrees with the processes that use it.

A process owner edits these files by hand; a broken one would only show when a user opens the task. These
checks hold every form to docs/contracts.md: valid JSON Schema, one field per property, labels in Chinese and
English, options matching enums, known widgets, and every form a BPMN file names exists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from app.services.core import WIDGETS

ROOT = Path(__file__).resolve().parents[1]
FORMS_DIR = ROOT / "forms"
PROCESSES_DIR = ROOT / "processes"

AUTO_KINDS = {"actor", "now", "business_key"}
#: Platform-set task data keys a form may show as context (docs/contracts.md).
SYS_KEYS = {"sys_business_key", "sys_started_by", "sys_started_at"}
#: The JSON types each widget edits.
WIDGET_TYPES = {
    "text": {"string"},
    "textarea": {"string"},
    "user_picker": {"string", "array"},  # one username, or several (a CAB's voters)
    "known_error_picker": {"string", "array"},
    "article_picker": {"string", "array"},
    "datetime": {"string"},
    "date": {"string"},
    "select": {"string", "integer", "number", "boolean"},
    "radio": {"string", "integer", "number", "boolean"},
    "number": {"integer", "number"},
    "checkbox": {"boolean"},
    "ci_picker": {"array"},
}
BPMN_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}

FORM_FILES = sorted(FORMS_DIR.glob("*.json"))
BPMN_FILES = sorted(PROCESSES_DIR.glob("*.bpmn"))


def load_form(path: Path) -> dict[str, Any]:
    """A form file as a dict."""
    return json.loads(path.read_text(encoding="utf-8"))


def parse_xml(path: Path) -> etree._Element:
    """Parse a BPMN/DMN file the safe way: no DTD, no entities, no network."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    tree = etree.parse(str(path), parser)
    assert tree.docinfo.doctype == "", f"{path.name} has a DOCTYPE; BPMN never needs one"
    return tree.getroot()


def assert_bilingual(value: Any, where: str) -> None:
    """``value`` is {"zh": ..., "en": ...} with two non-empty texts."""
    assert isinstance(value, dict), f"{where} must be an object with zh and en, not {value!r}"
    assert set(value) == {"zh", "en"}, f"{where} must have exactly the keys zh and en, has {sorted(value)}"
    for lang in ("zh", "en"):
        assert isinstance(value[lang], str) and value[lang].strip(), f"{where}.{lang} is empty"


def schema_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property schema allows."""
    kind = schema.get("type")
    return {kind} if isinstance(kind, str) else set(kind or ())


def forms_ids() -> list[str]:
    """Test ids: the form file names."""
    return [p.name for p in FORM_FILES]


def test_catalogue_is_not_empty():
    """The platform ships forms; an empty folder means a broken checkout."""
    assert FORM_FILES, "forms/ holds no *.json"


@pytest.mark.parametrize("path", FORM_FILES, ids=forms_ids())
def test_form_file_shape(path: Path):
    """Top-level keys, bilingual title and description, a valid JSON Schema 2020-12 object schema."""
    form = load_form(path)
    assert set(form) <= {"title", "description", "schema", "fields", "context"}, sorted(form)
    assert {"title", "schema", "fields"} <= set(form)
    assert_bilingual(form["title"], f"{path.name}: title")
    if "description" in form:
        assert_bilingual(form["description"], f"{path.name}: description")
    schema = form["schema"]
    Draft202012Validator.check_schema(schema)
    assert schema.get("$schema", "https://json-schema.org/draft/2020-12/schema") == (
        "https://json-schema.org/draft/2020-12/schema"
    )
    assert schema["type"] == "object"
    assert set(schema.get("required", [])) <= set(schema["properties"]), "required names unknown properties"


@pytest.mark.parametrize("path", FORM_FILES, ids=forms_ids())
def test_fields_match_schema(path: Path):
    """Every field is a schema property and vice versa, with a bilingual label, a known widget and type."""
    form = load_form(path)
    props = form["schema"]["properties"]
    names = [f["name"] for f in form["fields"]]
    assert len(names) == len(set(names)), f"{path.name}: a field is listed twice"
    assert set(names) == set(props), (
        f"{path.name}: fields without property {sorted(set(names) - set(props))}, "
        f"properties without field {sorted(set(props) - set(names))}"
    )
    for field in form["fields"]:
        where = f"{path.name}: field {field['name']}"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", field["name"]), f"{where}: task data keys are snake_case"
        assert not field["name"].startswith("sys_"), f"{where}: sys_ keys are the platform's"
        assert_bilingual(field["label"], f"{where}: label")
        if "help" in field:
            assert_bilingual(field["help"], f"{where}: help")
        widget = field.get("widget", "text")
        assert widget in WIDGETS, f"{where}: unknown widget {widget!r}"
        prop = props[field["name"]]
        assert schema_types(prop) & WIDGET_TYPES[widget], f"{where}: widget {widget} cannot edit {prop}"
        if widget in ("datetime", "date"):
            assert prop.get("format") == ("date-time" if widget == "datetime" else "date"), where
        if "auto" in field:
            assert field["auto"] in AUTO_KINDS, f"{where}: unknown auto {field['auto']!r}"
            assert field["name"] not in form["schema"].get("required", []), (
                f"{where}: the platform fills auto fields; the request never carries them"
            )


@pytest.mark.parametrize("path", FORM_FILES, ids=forms_ids())
def test_options_match_enums(path: Path):
    """select/radio options list exactly the schema's enum values, in order, each with a bilingual label."""
    form = load_form(path)
    props = form["schema"]["properties"]
    for field in form["fields"]:
        where = f"{path.name}: field {field['name']}"
        prop = props[field["name"]]
        if field.get("widget") in ("select", "radio"):
            assert "options" in field and "enum" in prop, f"{where}: a choice needs options and an enum"
        if "options" not in field:
            assert "enum" not in prop or field.get("widget") in ("select", "radio"), where
            continue
        values = [o["value"] for o in field["options"]]
        assert values == prop["enum"], f"{where}: options {values} differ from the enum {prop['enum']}"
        for option in field["options"]:
            assert_bilingual(option["label"], f"{where}: option {option['value']!r}")


@pytest.mark.parametrize("path", FORM_FILES, ids=forms_ids())
def test_strings_are_bounded(path: Path):
    """Every free-text string has a maxLength, so no form accepts unbounded input."""
    form = load_form(path)
    for name, prop in form["schema"]["properties"].items():
        item = prop.get("items", {}) if "array" in schema_types(prop) else prop
        if "string" in schema_types(item) and "enum" not in item:
            assert isinstance(item.get("maxLength"), int), f"{path.name}: {name} has no maxLength"
        if "array" in schema_types(prop):
            assert isinstance(prop.get("maxItems"), int), f"{path.name}: {name} has no maxItems"


def test_context_keys_are_known():
    """Context keys are fields of some form, platform sys_ keys, or outputs of a decision table."""
    known = set(SYS_KEYS)
    for path in FORM_FILES:
        known |= set(load_form(path)["schema"]["properties"])
    for path in sorted(PROCESSES_DIR.glob("*.dmn")):
        known |= {str(n) for n in parse_xml(path).xpath("//*[local-name()='output']/@name")}
    for path in FORM_FILES:
        context = load_form(path).get("context", [])
        assert isinstance(context, list) and all(isinstance(k, str) for k in context), path.name
        unknown = sorted(set(context) - known)
        assert not unknown, f"{path.name}: context keys nothing sets: {unknown}"


def test_every_form_reference_resolves():
    """Every user task of every process names a form, and that file is in forms/."""
    assert BPMN_FILES, "processes/ holds no *.bpmn"
    available = {p.name for p in FORM_FILES}
    for path in BPMN_FILES:
        root = parse_xml(path)
        for task in root.xpath("//bpmn:userTask", namespaces=BPMN_NS):
            refs = task.xpath(
                "./bpmn:extensionElements/spiffworkflow:properties/"
                "spiffworkflow:property[@name='formJsonSchemaFilename']/@value",
                namespaces=BPMN_NS,
            )
            assert refs, f"{path.name}: user task {task.get('id')} names no form"
            assert str(refs[0]) in available, f"{path.name}: {task.get('id')} names missing form {refs[0]}"


def test_incident_gateway_variables_come_from_forms():
    """Each name a gateway condition of incident.bpmn reads is a field of a form or a decision output."""
    known = {"priority", "True", "False", "None"}
    for path in FORM_FILES:
        known |= set(load_form(path)["schema"]["properties"])
    root = parse_xml(PROCESSES_DIR / "incident.bpmn")
    conditions = [str(t).strip() for t in root.xpath("//bpmn:conditionExpression/text()", namespaces=BPMN_NS)]
    assert conditions
    for condition in conditions:
        names = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r'"[^"]*"', "", condition)))
        names -= {"and", "or", "not", "in", "is"}
        assert names <= known, f"`{condition}` reads {sorted(names - known)}, which no form sets"
