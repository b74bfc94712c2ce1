"""The form catalogue: forms/NAME.json read once into typed definitions (see docs/contracts.md)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator

from app.roles import ROLES
from app.services.errors import NotFound, ProcessProblem

WIDGETS = {
    "text",
    "textarea",
    "number",
    "select",
    "radio",
    "checkbox",
    "datetime",
    "date",
    "ci_picker",
    "user_picker",
    "known_error_picker",
    "article_picker",
}
#: Widgets whose values name records of the platform; the server checks that they exist.
PICKERS = {"ci_picker", "user_picker", "known_error_picker", "article_picker"}


def pick(texts: dict[str, str] | str | None, locale: str) -> str:
    """The text of a ``{"zh": ..., "en": ...}`` label in the locale (Chinese for zh_*)."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    key = "zh" if locale.startswith("zh") else "en"
    return texts.get(key) or texts.get("en") or texts.get("zh") or ""


@dataclass(frozen=True)
class FieldDef:
    """One field of a form: its schema, widget and bilingual texts."""

    name: str
    widget: str
    labels: dict[str, str]
    schema: dict[str, Any]
    required: bool
    helps: dict[str, str] | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    auto: str | None = None
    #: user_picker only: the role every chosen user must hold (e.g. ``cab``)
    role: str | None = None

    def label(self, locale: str) -> str:
        """The field's label in the locale."""
        return pick(self.labels, locale)

    def help(self, locale: str) -> str:
        """The field's help text in the locale (may be empty)."""
        return pick(self.helps, locale)

    def choices(self, locale: str) -> list[tuple[Any, str]]:
        """``(value, label)`` pairs of a select or radio field."""
        return [(opt["value"], pick(opt.get("label"), locale)) for opt in self.options]

    def option_label(self, value: Any, locale: str) -> str:
        """The label of one stored value (the value itself when it is not an option)."""
        for opt in self.options:
            if opt["value"] == value:
                return pick(opt.get("label"), locale)
        return "" if value is None else str(value)

    @property
    def readonly(self) -> bool:
        """Auto fields are filled by the platform and never taken from input."""
        return self.auto is not None

    @property
    def is_array(self) -> bool:
        """Whether the field holds a list (ci_picker, multi-selects)."""
        return self.schema.get("type") == "array"


@dataclass(frozen=True)
class FormDef:
    """A user task's form: JSON Schema for validation plus the display definition."""

    name: str
    titles: dict[str, str]
    schema: dict[str, Any]
    fields: list[FieldDef]
    context: list[str]
    descriptions: dict[str, str] | None = None

    def title(self, locale: str) -> str:
        """The form's title in the locale."""
        return pick(self.titles, locale)

    def description(self, locale: str) -> str:
        """The form's description in the locale (may be empty)."""
        return pick(self.descriptions, locale)

    def field(self, name: str) -> FieldDef | None:
        """The field of that name, if any."""
        return next((f for f in self.fields if f.name == name), None)


def parse_form(name: str, raw: dict[str, Any]) -> FormDef:
    """Turn one form file's JSON into a ``FormDef``; raises ProcessProblem naming what is wrong."""
    schema = raw.get("schema")
    if not isinstance(schema, dict):
        raise ProcessProblem(_l("Form %(name)s: 'schema' must be a JSON Schema object.", name=name))
    try:
        Draft202012Validator.check_schema(schema)
    except Exception as exc:  # jsonschema.SchemaError; message names the bad keyword
        raise ProcessProblem(
            _l("Form %(name)s: the schema is not valid JSON Schema: %(error)s", name=name, error=str(exc))
        ) from exc
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = []
    for item in raw.get("fields", []):
        fname = item.get("name")
        if fname not in properties:
            raise ProcessProblem(
                _l(
                    "Form %(name)s: field '%(field)s' is not a property of the schema.",
                    name=name,
                    field=fname,
                )
            )
        widget = item.get("widget", "text")
        if widget not in WIDGETS:
            raise ProcessProblem(
                _l(
                    "Form %(name)s: field '%(field)s' has unknown widget '%(widget)s'.",
                    name=name,
                    field=fname,
                    widget=widget,
                )
            )
        role = item.get("role")
        if role is not None and (widget != "user_picker" or role not in ROLES):
            raise ProcessProblem(
                _l(
                    "Form %(name)s: field '%(field)s' names role '%(role)s'; only a user_picker names a role "
                    "of the catalogue.",
                    name=name,
                    field=fname,
                    role=role,
                )
            )
        fields.append(
            FieldDef(
                name=fname,
                widget=widget,
                labels=item.get("label") or {"en": fname, "zh": fname},
                schema=properties[fname],
                required=fname in required,
                helps=item.get("help"),
                options=list(item.get("options") or []),
                auto=item.get("auto"),
                role=role,
            )
        )
    return FormDef(
        name=name,
        titles=raw.get("title") or {"en": name, "zh": name},
        schema=schema,
        fields=fields,
        context=list(raw.get("context") or []),
        descriptions=raw.get("description"),
    )


class FormCatalog:
    """Every form of the forms folder, read lazily and cached; ``reload`` re-reads after a deploy."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._forms: dict[str, FormDef] | None = None
        self._lock = threading.Lock()

    def names(self) -> set[str]:
        """File names of every form (``incident_record.json``), as BPMN user tasks reference them."""
        return {path.name for path in self.folder.glob("*.json")}

    def get(self, name: str) -> FormDef:
        """The form a user task references; NotFound when the file is missing."""
        forms = self._all()
        key = name if name.endswith(".json") else f"{name}.json"
        if key not in forms:
            raise NotFound(_l("The form '%(name)s' does not exist in the forms folder.", name=name))
        return forms[key]

    def reload(self) -> None:
        """Forget the cached definitions (the next ``get`` re-reads the folder)."""
        with self._lock:
            self._forms = None

    def _all(self) -> dict[str, FormDef]:
        with self._lock:
            if self._forms is None:
                forms = {}
                for path in sorted(self.folder.glob("*.json")):
                    forms[path.name] = parse_form(path.stem, json.loads(path.read_text(encoding="utf-8")))
                self._forms = forms
            return self._forms
