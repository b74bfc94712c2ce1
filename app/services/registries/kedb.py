"""The known error database (KEDB): problems whose root cause is known, with their workarounds.

Everyone signed in may read it (the service desk looks here first); problem managers and experts write it.
The problem process records a known error when its investigation finds the root cause
(``record_from_problem``, idempotent per problem). Commands commit once; ``commit=False`` runs one inside a
caller's transaction (a process command).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import ConfigurationItem, KnownError, ProcessInstance, User
from app.services.core.catalogues import KNOWN_ERROR_STATUSES
from app.services.core.keys import next_record_key
from app.services.core.runtime import get_runtime
from app.services.core.search import where_words
from app.services.core.unit import command
from app.services.errors import Forbidden, InvalidInput, NotFound
from app.services.governance import audit

EDIT_ROLES = frozenset({"problem_manager", "problem_expert"})
TEXT_FIELDS = {"title": 300, "symptoms": 20000, "root_cause": 20000, "workaround": 20000}
_SEARCHED = (
    KnownError.key,
    KnownError.title,
    KnownError.symptoms,
    KnownError.root_cause,
    KnownError.workaround,
    KnownError.problem_key,
)
FIELDS = (*TEXT_FIELDS, "status", "problem_key", "ci_codes")


def can_edit_kedb(user: User) -> bool:
    """Problem managers and problem experts write the KEDB."""
    return bool(user.role_codes & EDIT_ROLES)


def require_kedb_editor(actor: User) -> None:
    """Forbidden unless the actor may write the KEDB (the edit pages check before showing a form)."""
    if not can_edit_kedb(actor):
        raise Forbidden(_l("Only problem managers and problem experts may write the known error database."))


def search_known_errors(
    actor: User,
    *,
    q: str | None = None,
    status: str | None = None,
    ci_code: str | None = None,
    page: int = 1,
    per_page: int = 25,
):
    """Known errors newest first; every word must appear in the key, title, symptoms, cause or workaround."""
    query = select(KnownError).order_by(KnownError.created_at.desc(), KnownError.id.desc())
    query = where_words(query, q, _SEARCHED)
    if status:
        query = query.where(KnownError.status == status)
    if ci_code:
        query = query.where(KnownError.cis.any(ConfigurationItem.code == ci_code))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def get_known_error(actor: User, key: str) -> KnownError:
    """One known error by its key (KE-2026-000001)."""
    record = db.session.scalar(select(KnownError).where(KnownError.key == key))
    if record is None:
        raise NotFound(_l("There is no known error %(key)s.", key=key))
    return record


def known_error_keys(keys: list[str]) -> set[str]:
    """Which of these known-error keys exist (form pickers check references with it)."""
    if not keys:
        return set()
    return set(db.session.scalars(select(KnownError.key).where(KnownError.key.in_(keys))))


def _clean(data: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], list[ConfigurationItem] | None]:
    """Checked values and the CIs named; raises InvalidInput with every problem."""
    errors: dict[str, list] = {}
    values: dict[str, Any] = {}
    cis = None
    for key, raw in data.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if key not in FIELDS:
            errors.setdefault(key, []).append(_l("A known error has no field '%(field)s'.", field=key))
        elif key in TEXT_FIELDS:
            if value is not None and not isinstance(value, str):
                errors[key] = [_l("Enter text.")]
            elif value and len(value) > TEXT_FIELDS[key]:
                errors[key] = [_l("At most %(limit)s characters.", limit=TEXT_FIELDS[key])]
            else:
                values[key] = value or ""
        elif key == "status":
            if value not in KNOWN_ERROR_STATUSES:
                errors[key] = [_l("Choose a status from the list.")]
            else:
                values[key] = value
        elif key == "problem_key":
            values[key] = _problem_key(value, errors)
        else:
            cis = _cis(value, errors)
    if (creating or "title" in values) and not values.get("title"):
        errors["title"] = [_l("A title is required.")]
    if errors:
        raise InvalidInput(_l("Please correct the marked fields."), errors)
    return values, cis


def _problem_key(value: Any, errors: dict[str, list]) -> str | None:
    if not value:
        return None
    process = db.session.scalar(
        select(ProcessInstance.process_id).where(ProcessInstance.business_key == str(value))
    )
    if process != "problem":
        errors["problem_key"] = [_l("%(key)s is not a problem record.", key=value)]
    return str(value)


def _cis(value: Any, errors: dict[str, list]) -> list[ConfigurationItem]:
    codes = value if isinstance(value, list) else ([] if not value else [value])
    codes = [str(code).strip() for code in codes if str(code).strip()]
    found = list(db.session.scalars(select(ConfigurationItem).where(ConfigurationItem.code.in_(codes))))
    missing = sorted(set(codes) - {ci.code for ci in found})
    if missing:
        errors["ci_codes"] = [_l("No such configuration item: %(code)s", code=code) for code in missing]
    return found


def _apply(record: KnownError, values: dict[str, Any], cis, actor: str | None, at: datetime) -> dict:
    """Set the values; returns field -> after for the audit event."""
    changed = {}
    for key, value in values.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed[key] = value
    if cis is not None and {c.code for c in cis} != set(record.ci_codes):
        record.cis = cis
        changed["ci_codes"] = sorted(c.code for c in cis)
    record.updated_at, record.updated_by = at, actor
    return changed


def _create(actor: str | None, values, cis, at: datetime) -> KnownError:
    record = KnownError(
        key=next_record_key("known_error", at),
        status="open",
        author=actor,
        created_at=at,
        symptoms="",
        root_cause="",
        workaround="",
    )
    db.session.add(record)
    _apply(record, values, cis or [], actor, at)
    return record


def _audit(kind: str, actor: str | None, record: KnownError, changed: dict, at: datetime) -> None:
    audit.append(
        kind=kind, actor=actor, instance_id=None, payload={"key": record.key, **changed}, result={}, at=at
    )


@command
def create_known_error(actor: User, data: dict[str, Any], *, commit: bool = True) -> KnownError:
    """Record a known error by hand (problem managers and experts)."""
    require_kedb_editor(actor)
    values, cis = _clean(data, creating=True)
    now = get_runtime().now()
    record = _create(actor.username, values, cis, now)
    _audit("kedb_create", actor.username, record, {**values, "ci_codes": record.ci_codes}, now)
    if commit:
        db.session.commit()
    return record


@command
def update_known_error(actor: User, key: str, data: dict[str, Any], *, commit: bool = True) -> KnownError:
    """Change a known error's texts, status, problem or CIs (problem managers and experts)."""
    require_kedb_editor(actor)
    record = get_known_error(actor, key)
    values, cis = _clean(data, creating=False)
    now = get_runtime().now()
    changed = _apply(record, values, cis, actor.username, now)
    if changed:
        _audit("kedb_update", actor.username, record, changed, now)
    if commit:
        db.session.commit()
    return record


@command
def record_from_problem(
    actor: User | None, problem_key: str, data: dict[str, Any], at: datetime, *, commit: bool = True
) -> KnownError:
    """Create, or update, the known error of a problem whose root cause was found.

    Called by the problem process (its lane authorises the actor); calling it again for the same problem
    updates that problem's known error instead of adding another.

    :param data: ``title``, ``symptoms``, ``root_cause``, ``workaround`` and the CIs as ``ci_codes`` or
        ``affected_cis`` (lists of CI codes); other keys of the process data are ignored.
    """
    picked = {key: data[key] for key in TEXT_FIELDS if data.get(key) is not None}
    codes = data.get("ci_codes", data.get("affected_cis"))
    if codes is not None:
        picked["ci_codes"] = codes
    picked["problem_key"] = problem_key
    existing = db.session.scalar(
        select(KnownError)
        .where(KnownError.problem_key == problem_key, KnownError.status != "retired")
        .order_by(KnownError.id.desc())
    )
    values, cis = _clean(picked, creating=existing is None)
    username = actor.username if actor is not None else None
    if existing is None:
        record = _create(username, values, cis, at)
        _audit("kedb_create", username, record, {**values, "ci_codes": record.ci_codes}, at)
    else:
        record = existing
        changed = _apply(record, values, cis, username, at)
        if changed:
            _audit("kedb_update", username, record, changed, at)
    if commit:
        db.session.commit()
    return record
