"""The rules every CMDB write follows: field values checked, what authorises it, history and audit rows.

cmdb.py (direct edits by configuration staff) and cmdb_changes.py (changes carried in by process steps) both
write through these functions, so a CI changes the same way whoever changes it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import CIHistory, ConfigurationItem, ProcessInstance
from app.services.core.catalogues import CI_CLASSES, CI_STATUSES
from app.services.errors import InvalidInput
from app.services.governance import audit

#: Fields of a CI that edits and changes may set (``code`` is fixed once created).
CI_FIELDS = (
    "name",
    "ci_class",
    "serial_number",
    "version",
    "status",
    "owner",
    "purchase_date",
    "description",
)
#: Processes whose instances may authorise a CMDB change.
AUTHORISING_PROCESSES = frozenset({"change", "change_emergency", "release"})
MANUAL = "manual"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LIMITS = {"name": 200, "serial_number": 120, "version": 64, "owner": 120, "description": 10000}


def json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def clean_fields(data: dict[str, Any], errors: dict[str, list], prefix: str = "") -> dict[str, Any]:
    """Typed, checked values of the fields given (unknown fields are errors); ``errors`` collects problems."""
    values: dict[str, Any] = {}
    for key, raw in data.items():
        name = prefix + key
        if key not in CI_FIELDS:
            errors.setdefault(name, []).append(
                _l("A configuration item has no field '%(field)s'.", field=key)
            )
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        if value == "":
            value = None
        if key == "purchase_date" and value is not None and not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value))
            except ValueError:
                errors.setdefault(name, []).append(_l("Enter a date as YYYY-MM-DD."))
                continue
        elif key == "ci_class" and value not in CI_CLASSES:
            errors.setdefault(name, []).append(_l("Choose a class from the list."))
            continue
        elif key == "status" and value not in CI_STATUSES:
            errors.setdefault(name, []).append(_l("Choose a status from the list."))
            continue
        elif key in LIMITS and value is not None:
            if not isinstance(value, str):
                errors.setdefault(name, []).append(_l("Enter text."))
                continue
            if len(value) > LIMITS[key]:
                errors.setdefault(name, []).append(_l("At most %(limit)s characters.", limit=LIMITS[key]))
                continue
        if key == "name" and not value:
            errors.setdefault(name, []).append(_l("A name is required."))
            continue
        values[key] = value
    return values


def authority_for(change_key: str | None, reason: str | None, errors: dict[str, list]) -> str:
    """The change key that authorises an edit (checked), or ``manual`` when a reason is given."""
    if change_key:
        process = db.session.scalar(
            select(ProcessInstance.process_id).where(ProcessInstance.business_key == change_key)
        )
        if process not in AUTHORISING_PROCESSES:
            errors.setdefault("change_key", []).append(
                _l("%(key)s is not a change or release request.", key=change_key)
            )
        return change_key
    if not (reason or "").strip():
        errors.setdefault("reason", []).append(
            _l("Give the reason for a change made outside a change request.")
        )
    elif len(reason) > 2000:
        errors.setdefault("reason", []).append(_l("At most %(limit)s characters.", limit=2000))
    return MANUAL


def raise_errors(errors: dict[str, list]) -> None:
    if errors:
        raise InvalidInput(_l("Please correct the marked fields."), errors)


def write_history(item, action, changes, authority, reason, actor, at) -> CIHistory:
    entry = CIHistory(
        ci_id=item.id, at=at, actor=actor, action=action, changes=changes, authority=authority, reason=reason
    )
    db.session.add(entry)
    return entry


def audit_cmdb(kind: str, actor: str | None, payload: dict, at: datetime) -> None:
    audit.append(kind=kind, actor=actor, instance_id=None, payload=payload, result={}, at=at)


def new_item(code: str, values: dict[str, Any], errors: dict[str, list], prefix: str = ""):
    """A CI not yet added to the session; problems with its code or required fields go to ``errors``."""
    if not CODE.match(code or ""):
        errors.setdefault(prefix + "code", []).append(
            _l("Use 1–64 letters, digits, dots, dashes or underscores, starting with a letter or digit.")
        )
    elif db.session.scalar(select(ConfigurationItem.id).where(ConfigurationItem.code == code)) is not None:
        errors.setdefault(prefix + "code", []).append(_l("The code %(code)s is taken.", code=code))
    for key in ("name", "ci_class"):
        if not values.get(key) and prefix + key not in errors:
            errors.setdefault(prefix + key, []).append(_l("This field is required."))
    return ConfigurationItem(code=code, **{"status": "in_use", **values})


def initial_history(item: ConfigurationItem) -> dict[str, dict]:
    """The fields a new CI was registered with, as history (``before`` None)."""
    values = {key: json_value(getattr(item, key)) for key in CI_FIELDS}
    return {key: {"before": None, "after": value} for key, value in values.items() if value is not None}


def apply_fields(item: ConfigurationItem, values: dict[str, Any]) -> dict[str, dict]:
    """Field -> before/after for the values that differ, applied to the item."""
    changes = {}
    for key, value in values.items():
        before = getattr(item, key)
        if before != value:
            changes[key] = {"before": json_value(before), "after": json_value(value)}
            setattr(item, key, value)
    return changes


def plain_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: plain_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_values(item) for item in value]
    return json_value(value)
