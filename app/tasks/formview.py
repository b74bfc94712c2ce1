"""Turning form definitions and task data into what the form macro and the context list show.

Nothing here writes: these helpers only read the form catalogue and the instance's data, so the views can
stay "parse input -> one service call -> render".
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user

from app.auth.templating import display_value, form_text, local_input_value, ui_locale, ui_timezone
from app.services import registries, workflow
from app.services.core import FieldDef, FormDef
from app.services.errors import NotFound


def locale_and_zone() -> dict[str, str]:
    """The ``locale`` and ``tz`` keyword arguments every form-taking service wants."""
    return {"locale": ui_locale(), "tz": ui_timezone()}


def initial_values(form: FormDef | None, data: dict | None = None) -> dict[str, Any]:
    """What the inputs show before the first submit: the instance's current value, else the schema default.

    Prefilling from the instance spares the desk retyping what the requester already wrote (the record form
    repeats the raise form's title, symptoms and contact), and keeps a re-opened step's earlier answers.
    """
    values: dict[str, Any] = {}
    if form is None:
        return values
    data = data or {}
    for field in form.fields:
        if field.auto:
            continue
        value = data.get(field.name, field.schema.get("default"))
        if value is None:
            continue
        values[field.name] = _as_input(field, value)
    return values


def _as_input(field: FieldDef, value: Any) -> Any:
    if isinstance(value, list):
        return [form_text(item) for item in value]
    if field.widget == "datetime":
        return local_input_value(value)
    if field.widget == "date" and isinstance(value, str):
        return value[:10]
    return form_text(value)


def submitted_values(form: FormDef | None, posted) -> dict[str, Any]:
    """Exactly what the user typed (strings, lists for multi-selects), to show again after an error."""
    values: dict[str, Any] = {}
    if form is None:
        return values
    for field in form.fields:
        if field.auto:
            continue
        if field.is_array:
            values[field.name] = posted.getlist(field.name)
        elif field.name in posted:
            values[field.name] = posted.get(field.name, "")
    return values


def auto_texts(business_key: str | None = None) -> dict[str, str]:
    """What an auto field shows before submit: the user, "when you submit", the business key."""
    return {
        "actor": f"{current_user.display_name} ({current_user.username})",
        "now": _("Set when you submit"),
        "business_key": business_key or _("Assigned when the request is created"),
    }


def picker_choices(form: FormDef | None) -> dict[str, list[tuple[str, str]]]:
    """Options for the pickers the form uses: ``ci``, ``users`` (``users:<role>`` for a field naming a role),
    ``known_errors`` and ``articles``; the picker's filter box asks the API for more."""
    choices: dict[str, list[tuple[str, str]]] = {}
    if form is None:
        return choices
    for field in form.fields:
        if field.widget == "ci_picker" and "ci" not in choices:
            choices["ci"] = [(ci.code, f"{ci.code} · {ci.name}") for ci in registries.list_cis()]
        elif field.widget == "user_picker":
            key = f"users:{field.role}" if field.role else "users"
            if key not in choices:
                choices[key] = [(o.value, o.label) for o in registries.user_options(role=field.role)]
        elif field.widget == "known_error_picker" and "known_errors" not in choices:
            choices["known_errors"] = [(o.value, o.label) for o in registries.known_error_options()]
        elif field.widget == "article_picker" and "articles" not in choices:
            choices["articles"] = [(o.value, o.label) for o in registries.article_options(current_user)]
    return choices


#: Labels of task-data keys that no form writes (the platform's and the decision tables').
def builtin_labels() -> dict[str, str]:
    """Labels for the platform's own data keys, in the request's language."""
    return {
        "sys_business_key": _("Business key"),
        "sys_started_by": _("Raised by"),
        "sys_started_at": _("Raised at"),
        "priority": _("Priority"),
    }


def field_index(form_names) -> dict[str, FieldDef]:
    """Field name -> definition over the given forms (the forms that wrote an instance's data)."""
    index: dict[str, FieldDef] = {}
    for name in form_names:
        if not name:
            continue
        try:
            form = workflow.get_form(name)
        except NotFound:  # a form removed since the step ran: fall back to raw keys
            continue
        for field in form.fields:
            index.setdefault(field.name, field)
    return index


def label_of(name: str, index: dict[str, FieldDef]) -> str:
    """The label of a data key in the request's language (the key itself when nobody defines it)."""
    field = index.get(name)
    if field is not None:
        return field.label(ui_locale())
    return builtin_labels().get(name, name)


def context_items(keys, data: dict, index: dict[str, FieldDef]) -> list[tuple[str, str]]:
    """``(label, text)`` for each context key that has a value in the instance's data."""
    items = []
    ci_labels = registries.ci_names(_ci_codes(keys, data, index))
    for key in keys:
        if key not in data or data[key] in (None, "", []):
            continue
        items.append((label_of(key, index), _text(key, data[key], index, ci_labels)))
    return items


def data_items(data: dict, index: dict[str, FieldDef]) -> list[tuple[str, str]]:
    """``(label, text)`` for every entry of what a step recorded, in the forms' field order when known."""
    positions = {name: position for position, name in enumerate(index)}
    keys = sorted(data, key=lambda key: positions.get(key, len(positions)))
    return context_items(keys, data, index)


def _ci_codes(keys, data: dict, index: dict[str, FieldDef]) -> list[str]:
    codes: list[str] = []
    for key in keys:
        field = index.get(key)
        if field is not None and field.widget == "ci_picker" and isinstance(data.get(key), list):
            codes.extend(str(code) for code in data[key])
    return codes


def _text(key: str, value: Any, index: dict[str, FieldDef], ci_labels: dict[str, str]) -> str:
    field = index.get(key)
    if field is not None and field.widget == "ci_picker" and isinstance(value, list):
        return ", ".join(ci_labels.get(str(code), str(code)) for code in value) or "—"
    if field is not None and field.options:
        if isinstance(value, list):
            return ", ".join(field.option_label(item, ui_locale()) for item in value)
        return field.option_label(value, ui_locale())
    return display_value(value, field)
