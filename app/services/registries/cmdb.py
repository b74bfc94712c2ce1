"""The configuration management database: CIs, their relations and the history of every change.

Everyone signed in may read the CMDB; configuration managers and operators change it. Each change writes one
``CIHistory`` row per CI with every field's before and after and what authorised it: the business key of a
change (or release) instance, or ``manual`` for a direct edit, which must give a reason. The change process's
CMDB-update step calls ``apply_change`` with its own business key.

Commands commit once; pass ``commit=False`` to run one inside a caller's transaction (a process command),
which then commits or rolls back everything together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import CIHistory, CIRelation, ConfigurationItem, KnownError, User
from app.services.core.catalogues import RELATION_KINDS
from app.services.core.runtime import get_runtime
from app.services.core.search import where_words
from app.services.core.unit import command
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.registries.cmdb_rules import (
    apply_fields,
    audit_cmdb,
    authority_for,
    clean_fields,
    initial_history,
    new_item,
    raise_errors,
    write_history,
)

EDIT_ROLES = frozenset({"config_manager", "config_operator"})
_SEARCHED = (
    ConfigurationItem.code,
    ConfigurationItem.name,
    ConfigurationItem.serial_number,
    ConfigurationItem.version,
    ConfigurationItem.owner,
)


@dataclass(frozen=True)
class CIView:
    """A CI as its page shows it: relations both ways, history newest first, known errors naming it."""

    ci: ConfigurationItem
    outgoing: list[CIRelation]
    incoming: list[CIRelation]
    history: list[CIHistory]
    known_errors: list[KnownError]


def can_edit_cmdb(user: User) -> bool:
    """Configuration managers and operators change the CMDB."""
    return bool(user.role_codes & EDIT_ROLES)


def require_cmdb_editor(actor: User) -> None:
    """Forbidden unless the actor may change the CMDB (the edit pages check before showing a form)."""
    if not can_edit_cmdb(actor):
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


def ci_counts(actor: User) -> dict[str, dict[str, int]]:
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
    require_cmdb_editor(actor)
    now = get_runtime().now()
    errors: dict[str, list] = {}
    code = (code or "").strip()
    values = clean_fields(data, errors)
    authority = authority_for(change_key, reason or "registered", errors)  # a reason is optional here
    item = new_item(code, values, errors)
    raise_errors(errors)
    item.created_at = item.updated_at = now
    db.session.add(item)
    db.session.flush()
    changes = initial_history(item)
    write_history(item, "created", changes, authority, reason, actor.username, now)
    audit_cmdb("cmdb_create", actor.username, {"code": code, "changes": changes, "authority": authority}, now)
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
    require_cmdb_editor(actor)
    item = _find(code)
    now = get_runtime().now()
    errors: dict[str, list] = {}
    values = clean_fields(data, errors)
    authority = authority_for(change_key, reason, errors)
    raise_errors(errors)
    changes = apply_fields(item, values)
    if changes:
        item.updated_at = now
        write_history(item, "updated", changes, authority, reason, actor.username, now)
        payload = {"code": code, "changes": changes, "authority": authority, "reason": reason}
        audit_cmdb("cmdb_update", actor.username, payload, now)
    if commit:
        db.session.commit()
    return item


@command
def relate_cis(
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
    require_cmdb_editor(actor)
    source = _find(source_code)
    errors: dict[str, list] = {}
    target = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == target_code))
    if target is None:
        errors["target"] = [_l("There is no configuration item %(code)s.", code=target_code)]
    elif target.id == source.id:
        errors["target"] = [_l("A configuration item cannot relate to itself.")]
    if kind not in RELATION_KINDS:
        errors["kind"] = [_l("Choose a relation from the list.")]
    authority = authority_for(change_key, reason, errors)
    raise_errors(errors)
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
        write_history(item, "related", change, authority, reason, actor.username, now)
    audit_cmdb(
        "cmdb_relate", actor.username, {"relation": text, "authority": authority, "reason": reason}, now
    )
    if commit:
        db.session.commit()
    return relation


@command
def unrelate_cis(
    actor: User,
    relation_id: int,
    *,
    reason: str | None = None,
    change_key: str | None = None,
    commit: bool = True,
) -> None:
    """Remove a relation; both CIs' histories note it."""
    require_cmdb_editor(actor)
    relation = db.session.get(CIRelation, relation_id)
    if relation is None:
        raise NotFound(_l("This relation does not exist (any more)."))
    errors: dict[str, list] = {}
    authority = authority_for(change_key, reason, errors)
    raise_errors(errors)
    now = get_runtime().now()
    text = f"{relation.source.code} {relation.kind} {relation.target.code}"
    change = {"relation": {"before": text, "after": None}}
    for item in (relation.source, relation.target):
        write_history(item, "unrelated", change, authority, reason, actor.username, now)
    db.session.delete(relation)
    audit_cmdb(
        "cmdb_unrelate", actor.username, {"relation": text, "authority": authority, "reason": reason}, now
    )
    if commit:
        db.session.commit()


def ensure_ci(code: str, name: str, ci_class: str, owner: str | None = None) -> ConfigurationItem:
    """Create a CI if its code is new (seed data; the caller commits)."""
    item = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == code))
    if item is None:
        item = ConfigurationItem(code=code, name=name, ci_class=ci_class, owner=owner)
        db.session.add(item)
    return item
