"""Changes write the CMDB: field updates under a change's key, and the change process's CMDB-update notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import ConfigurationItem, User
from app.services.core.unit import command
from app.services.registries.cmdb_rules import (
    apply_fields,
    audit_cmdb,
    authority_for,
    clean_fields,
    initial_history,
    new_item,
    plain_values,
    raise_errors,
    write_history,
)


@command
def apply_change(
    actor: User | None,
    change_key: str,
    updates: list[dict[str, Any]],
    at: datetime,
    *,
    commit: bool = True,
) -> list[ConfigurationItem]:
    """Carry a change's CI updates into the CMDB, each CI's history naming the change.

    Called by the CMDB-update step of a change (or release) process; the step's lane authorises the actor.
    A code that does not exist yet is registered (then ``name`` and ``ci_class`` are required).

    :param change_key: business key of the change/release instance (CHG-2026-000001).
    :param updates: ``[{"code": "SRV-APP-01", "version": "2.1", "status": "in_use"}, ...]``
    :param at: the time of the calling command.
    :raises InvalidInput: field errors keyed ``updates.<index>.<field>``; nothing is written.
    """
    errors: dict[str, list] = {}
    authority = authority_for(change_key, None, errors)
    if not isinstance(updates, list) or not all(isinstance(u, dict) for u in updates):
        errors.setdefault("updates", []).append(_l("Give a list of {code, field: value} objects."))
        raise_errors(errors)
    username = actor.username if actor is not None else None
    planned: list[tuple[ConfigurationItem, str, dict]] = []
    for index, update in enumerate(updates):
        prefix = f"updates.{index}."
        fields = {key: value for key, value in update.items() if key != "code"}
        code = str(update.get("code") or "").strip()
        values = clean_fields(fields, errors, prefix)
        item = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == code))
        if item is None:
            item = new_item(code, values, errors, prefix)
            planned.append((item, "created", values))
        else:
            planned.append((item, "updated", values))
    raise_errors(errors)
    changed = []
    for item, action, values in planned:
        if action == "created":
            item.created_at = at
            db.session.add(item)
            db.session.flush()
            changes = initial_history(item)
        else:
            changes = apply_fields(item, values)
        if changes:
            item.updated_at = at
            write_history(item, action, changes, authority, None, username, at)
            changed.append(item)
    audit_cmdb("cmdb_change", username, {"change_key": change_key, "updates": plain_values(updates)}, at)
    if commit:
        db.session.commit()
    return changed


@command
def record_change_note(
    actor: User | None,
    change_key: str,
    codes: list[str],
    before: str,
    after: str,
    at: datetime,
    *,
    commit: bool = True,
) -> list[ConfigurationItem]:
    """A change's CMDB-update step: a history entry on each CI it names, under the change's key.

    :raises InvalidInput: an unknown CI (``cmdb_cis``) or a key that names no change or release.
    """
    errors: dict[str, list] = {}
    authority = authority_for(change_key, None, errors)
    items = []
    for code in codes:
        item = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == code))
        if item is None:
            errors.setdefault("cmdb_cis", []).append(_l("No such configuration item: %(code)s", code=code))
        else:
            items.append(item)
    if errors:
        raise_errors(errors)
    username = actor.username if actor is not None else None
    for item in items:
        write_history(
            item,
            "change",
            {"configuration": {"before": before, "after": after}},
            authority,
            None,
            username,
            at,
        )
        item.updated_at = at
    audit_cmdb("cmdb_change_note", username, {"change_key": change_key, "cis": list(codes)}, at)
    if commit:
        db.session.commit()
    return items
