"""Configuration items (a first CMDB table) for the CI pickers of the forms."""

from __future__ import annotations

from sqlalchemy import or_, select

from app.extensions import db
from app.models import ConfigurationItem


def list_cis(q: str | None = None, limit: int = 500) -> list[ConfigurationItem]:
    """Configuration items by code, optionally filtered by code or name."""
    query = select(ConfigurationItem).order_by(ConfigurationItem.code).limit(limit)
    if q:
        like = f"%{q}%"
        query = query.where(or_(ConfigurationItem.code.ilike(like), ConfigurationItem.name.ilike(like)))
    return list(db.session.scalars(query))


def ci_names(codes: list[str]) -> dict[str, str]:
    """``code -> "code name"`` for showing stored CI references."""
    if not codes:
        return {}
    rows = db.session.execute(
        select(ConfigurationItem.code, ConfigurationItem.name).where(ConfigurationItem.code.in_(codes))
    )
    return {code: f"{code} {name}" for code, name in rows}


def ensure_ci(code: str, name: str, ci_class: str, owner: str | None = None) -> ConfigurationItem:
    """Create a CI if its code is new (seed data; the caller commits)."""
    item = db.session.scalar(select(ConfigurationItem).where(ConfigurationItem.code == code))
    if item is None:
        item = ConfigurationItem(code=code, name=name, ci_class=ci_class, owner=owner)
        db.session.add(item)
    return item
