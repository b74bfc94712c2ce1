"""What the form pickers offer: CIs, users (optionally of one role), known errors and knowledge articles.

The task and start pages render the first options into the form; the JSON endpoints under /api/v1 answer the
picker's filter box with the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Article, ConfigurationItem, KnownError, Membership, User
from app.services.core.search import where_words
from app.services.registries import knowledge

LIMIT = 200


@dataclass(frozen=True)
class Option:
    """One choice of a picker: the stored value and what a person reads."""

    value: str
    label: str


def picker_users(q: str | None = None, role: str | None = None, limit: int = LIMIT) -> list[User]:
    """Active people by username (only holders of ``role`` when given); ``q`` filters username and name."""
    query = select(User).where(User.active.is_(True), User.username != "system").order_by(User.username)
    if role:
        query = query.where(User.memberships.any(Membership.role_code == role))
    query = where_words(query, q, (User.username, User.display_name))
    return list(db.session.scalars(query.limit(limit)))


def user_options(q: str | None = None, role: str | None = None, limit: int = LIMIT) -> list[Option]:
    """``users`` as picker options."""
    return [Option(u.username, f"{u.display_name} ({u.username})") for u in picker_users(q, role, limit)]


def known_error_options(q: str | None = None, limit: int = LIMIT) -> list[Option]:
    """Known errors that are not retired, newest first; ``q`` filters key, title and symptoms."""
    query = select(KnownError).where(KnownError.status != "retired").order_by(KnownError.id.desc())
    query = where_words(query, q, (KnownError.key, KnownError.title, KnownError.symptoms))
    return [Option(k.key, f"{k.key} · {k.title}") for k in db.session.scalars(query.limit(limit))]


def article_options(actor: User, q: str | None = None, limit: int = LIMIT) -> list[Option]:
    """Articles the actor may see (formal, their own, all for knowledge roles), not retired."""
    page = knowledge.search_articles(actor, q=q, per_page=limit)
    return [Option(a.key, f"{a.key} · {a.title}") for a in page.items if a.state != "retired"]


def article_titles(keys: list[str]) -> dict[str, str]:
    """``key -> "key title"`` for showing stored article references."""
    if not keys:
        return {}
    rows = db.session.execute(select(Article.key, Article.title).where(Article.key.in_(keys)))
    return {key: f"{key} {title}" for key, title in rows}


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
