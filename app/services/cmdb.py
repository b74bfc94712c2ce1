"""The configuration management database: CIs, their relations and the history of every change.

Everyone signed in may read the CMDB; configuration managers and operators change it. Each change writes one
``CIHistory`` row per CI with every field's before and after and what authorised it: the business key of a
change (or release) instance, or ``manual`` for a direct edit, which must give a reason. The change process's
CMDB-update step calls ``apply_change`` with its own business key.

Commands commit once; pass ``commit=False`` to run one inside a caller's transaction (a process command),
which then commits or rolls back everything together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import CIHistory, CIRelation, ConfigurationItem, KnownError, ProcessInstance, User
from app.services import audit
from app.services.catalogues import CI_CLASSES, CI_STATUSES, RELATION_KINDS
from app.services.commands import command
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.runtime import get_runtime
from app.services.search import where_words

EDIT_ROLES = frozenset({"config_manager", "config_operator"})
#: Fields of a CI that edits and changes may set (``code`` is fixed once created).
FIELDS = ("name", "ci_class", "serial_number", "version", "status", "owner", "purchase_date", "description")
#: Processes whose instances may authorise a CMDB change.
AUTHORISING_PROCESSES = frozenset({"change", "change_emergency", "release"})
MANUAL = "manual"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SEARCHED = (
    ConfigurationItem.code,
    ConfigurationItem.name,
    ConfigurationItem.serial_number,
    ConfigurationItem.version,
    ConfigurationItem.owner,
)
_LIMITS = {"name": 200, "serial_number": 120, "version": 64, "owner": 120, "description": 10000}


@dataclass(frozen=True)
class CIView:
    """A CI as its page shows it: relations both ways, history newest first, known errors naming it."""

    ci: ConfigurationItem
    outgoing: list[CIRelation]
    incoming: list[CIRelation]
    history: list[CIHistory]
    known_errors: list[KnownError]


def can_edit(user: User) -> bool:
    """Configuration managers and operators change the CMDB."""
    return bool(user.role_codes & EDIT_ROLES)


def require_editor(actor: User) -> None:
    """Forbidden unless the actor may change the CMDB (the edit pages check before showing a form)."""
    if not can_edit(actor):
        raise Forbidden(_l("Only configuration managers and operators may change the CMDB."))


def search_cis(
    actor: User,
    *,
    q: str | None = None,
    ci_class: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 25,
):
    """CIs by code, filtered by words (code, name, serial number, version, owner), class and status."""
    query = select(ConfigurationItem).order_by(ConfigurationItem.code)
    query = where_words(query, q, _SEARCHED)
    if ci_class:
        query = query.where(ConfigurationItem.ci_class == ci_class)
    if status:
        query = query.where(ConfigurationItem.status == status)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def counts(actor: User) -> dict[str, dict[str, int]]:
    """How many CIs per class and per status (the CMDB's statistics line)."""
    by_class = db.session.execute(
        select(ConfigurationItem.ci_class, func.count()).group_by(ConfigurationItem.ci_class)
    )
    by_status = db.session.execute(
        select(ConfigurationItem.status, func.count()).group_by(ConfigurationItem.status)
    )
    return {"class": {code: n for code, n in by_class}, "status": {code: n for code, n in by_status}}


def _find(code: str) -> ConfigurationItem:
    item = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == code))
    if item is None:
        raise NotFound(_l("There is no configuration item %(code)s.", code=code))
    return item


def get_ci(actor: User, code: str) -> CIView:
    """One CI with what it relates to, what relates to it, its history and the known errors naming it."""
    item = _find(code)
    outgoing = db.session.scalars(
        select(CIRelation).where(CIRelation.source_id == item.id).order_by(CIRelation.kind, CIRelation.id)
    )
    incoming = db.session.scalars(
        select(CIRelation).where(CIRelation.target_id == item.id).order_by(CIRelation.kind, CIRelation.id)
    )
    history = db.session.scalars(
        select(CIHistory).where(CIHistory.ci_id == item.id).order_by(CIHistory.at.desc(), CIHistory.id.desc())
    )
    errors = db.session.scalars(
        select(KnownError).where(KnownError.cis.contains(item)).order_by(KnownError.key.desc())
    )
    return CIView(item, list(outgoing), list(incoming), list(history), list(errors))


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _clean(data: dict[str, Any], errors: dict[str, list], prefix: str = "") -> dict[str, Any]:
    """Typed, checked values of the fields given (unknown fields are errors); ``errors`` collects problems."""
    values: dict[str, Any] = {}
    for key, raw in data.items():
        name = prefix + key
        if key not in FIELDS:
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
        elif key in _LIMITS and value is not None:
            if not isinstance(value, str):
                errors.setdefault(name, []).append(_l("Enter text."))
                continue
            if len(value) > _LIMITS[key]:
                errors.setdefault(name, []).append(_l("At most %(limit)s characters.", limit=_LIMITS[key]))
                continue
        if key == "name" and not value:
            errors.setdefault(name, []).append(_l("A name is required."))
            continue
        values[key] = value
    return values


def _authority(change_key: str | None, reason: str | None, errors: dict[str, list]) -> str:
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


def _raise(errors: dict[str, list]) -> None:
    if errors:
        raise InvalidInput(_l("Please correct the marked fields."), errors)


def _write_history(item, action, changes, authority, reason, actor, at) -> CIHistory:
    entry = CIHistory(
        ci_id=item.id, at=at, actor=actor, action=action, changes=changes, authority=authority, reason=reason
    )
    db.session.add(entry)
    return entry


def _audit(kind: str, actor: str | None, payload: dict, at: datetime) -> None:
    audit.append(kind=kind, actor=actor, instance_id=None, payload=payload, result={}, at=at)


def _new_item(code: str, values: dict[str, Any], errors: dict[str, list], prefix: str = ""):
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


def _initial(item: ConfigurationItem) -> dict[str, dict]:
    """The fields a new CI was registered with, as history (``before`` None)."""
    values = {key: _json_value(getattr(item, key)) for key in FIELDS}
    return {key: {"before": None, "after": value} for key, value in values.items() if value is not None}


def _changes(item: ConfigurationItem, values: dict[str, Any]) -> dict[str, dict]:
    """Field -> before/after for the values that differ, applied to the item."""
    changes = {}
    for key, value in values.items():
        before = getattr(item, key)
        if before != value:
            changes[key] = {"before": _json_value(before), "after": _json_value(value)}
            setattr(item, key, value)
    return changes


@command
def create_ci(
    actor: User,
    code: str,
    data: dict[str, Any],
    *,
    reason: str | None = None,
    change_key: str | None = None,
    commit: bool = True,
) -> ConfigurationItem:
    """Register a CI; its history starts with every field it was created with."""
    require_editor(actor)
    now = get_runtime().now()
    errors: dict[str, list] = {}
    code = (code or "").strip()
    values = _clean(data, errors)
    authority = _authority(change_key, reason or "registered", errors)  # a reason is optional here
    item = _new_item(code, values, errors)
    _raise(errors)
    item.created_at = item.updated_at = now
    db.session.add(item)
    db.session.flush()
    changes = _initial(item)
    _write_history(item, "created", changes, authority, reason, actor.username, now)
    _audit("cmdb_create", actor.username, {"code": code, "changes": changes, "authority": authority}, now)
    if commit:
        db.session.commit()
    return item


@command
def update_ci(
    actor: User,
    code: str,
    data: dict[str, Any],
    *,
    reason: str | None = None,
    change_key: str | None = None,
    commit: bool = True,
) -> ConfigurationItem:
    """Change fields of a CI; history gets each field's before and after (nothing when nothing differs).

    :raises InvalidInput: on a wrong value, or a direct edit without a reason.
    """
    require_editor(actor)
    item = _find(code)
    now = get_runtime().now()
    errors: dict[str, list] = {}
    values = _clean(data, errors)
    authority = _authority(change_key, reason, errors)
    _raise(errors)
    changes = _changes(item, values)
    if changes:
        item.updated_at = now
        _write_history(item, "updated", changes, authority, reason, actor.username, now)
        payload = {"code": code, "changes": changes, "authority": authority, "reason": reason}
        _audit("cmdb_update", actor.username, payload, now)
    if commit:
        db.session.commit()
    return item


@command
def relate(
    actor: User,
    source_code: str,
    target_code: str,
    kind: str,
    *,
    reason: str | None = None,
    change_key: str | None = None,
    commit: bool = True,
) -> CIRelation:
    """Record ``source --kind--> target``; both CIs' histories note it. 409 when it exists already."""
    require_editor(actor)
    source = _find(source_code)
    errors: dict[str, list] = {}
    target = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == target_code))
    if target is None:
        errors["target"] = [_l("There is no configuration item %(code)s.", code=target_code)]
    elif target.id == source.id:
        errors["target"] = [_l("A configuration item cannot relate to itself.")]
    if kind not in RELATION_KINDS:
        errors["kind"] = [_l("Choose a relation from the list.")]
    authority = _authority(change_key, reason, errors)
    _raise(errors)
    exists = select(CIRelation.id).where(
        CIRelation.source_id == source.id, CIRelation.target_id == target.id, CIRelation.kind == kind
    )
    if db.session.scalar(exists) is not None:
        raise Conflict(_l("This relation is already recorded."))
    now = get_runtime().now()
    relation = CIRelation(source=source, target=target, kind=kind, created_at=now, created_by=actor.username)
    db.session.add(relation)
    text = f"{source.code} {kind} {target.code}"
    change = {"relation": {"before": None, "after": text}}
    for item in (source, target):
        _write_history(item, "related", change, authority, reason, actor.username, now)
    _audit("cmdb_relate", actor.username, {"relation": text, "authority": authority, "reason": reason}, now)
    if commit:
        db.session.commit()
    return relation


@command
def unrelate(
    actor: User,
    relation_id: int,
    *,
    reason: str | None = None,
    change_key: str | None = None,
    commit: bool = True,
) -> None:
    """Remove a relation; both CIs' histories note it."""
    require_editor(actor)
    relation = db.session.get(CIRelation, relation_id)
    if relation is None:
        raise NotFound(_l("This relation does not exist (any more)."))
    errors: dict[str, list] = {}
    authority = _authority(change_key, reason, errors)
    _raise(errors)
    now = get_runtime().now()
    text = f"{relation.source.code} {relation.kind} {relation.target.code}"
    change = {"relation": {"before": text, "after": None}}
    for item in (relation.source, relation.target):
        _write_history(item, "unrelated", change, authority, reason, actor.username, now)
    db.session.delete(relation)
    _audit("cmdb_unrelate", actor.username, {"relation": text, "authority": authority, "reason": reason}, now)
    if commit:
        db.session.commit()


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return _json_value(value)
