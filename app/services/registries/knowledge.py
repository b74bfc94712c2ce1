"""The knowledge base: articles submitted by anyone, reviewed and published by knowledge management.

An article starts *temporary* (the temporary knowledge base of seed 表 11): only its author and the knowledge
roles see it; the author edits it while it stays temporary. A knowledge manager publishes it (*formal*: every
signed-in user reads it, each view counted) or sends it back with a comment; a retired article stays for the
record. Attachments are Word, Excel or text documents checked by content (app/services/attachments.py); their
text is searched with the title and body.

Commands commit once; ``commit=False`` runs one inside a caller's transaction (the knowledge review process).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import undefer

from app.extensions import db
from app.models import Article, ArticleAttachment, User
from app.services.core.catalogues import CATEGORIES
from app.services.core.keys import next_record_key
from app.services.core.runtime import get_runtime
from app.services.core.search import where_words
from app.services.core.unit import command
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.governance import audit
from app.services.registries.attachments import check_upload

KNOWLEDGE_ROLES = frozenset({"knowledge_manager", "knowledge_operator"})
PUBLISHER = "knowledge_manager"
MAX_ATTACHMENTS = 10
LIMITS = {"title": 300, "body": 100_000}
#: An upload: (file name as sent, bytes).
Upload = tuple[str, bytes]


def is_knowledge_staff(user: User) -> bool:
    """Knowledge managers and operators see and edit every article."""
    return bool(user.role_codes & KNOWLEDGE_ROLES)


def can_see(user: User, article: Article) -> bool:
    """Formal articles are for everyone; temporary and retired ones for their author and knowledge roles."""
    return article.state == "formal" or article.author == user.username or is_knowledge_staff(user)


def can_edit_article(user: User, article: Article) -> bool:
    """The author while temporary; knowledge roles until it is retired."""
    if article.state == "retired":
        return False
    return is_knowledge_staff(user) or (article.state == "temporary" and article.author == user.username)


def search_articles(
    actor: User,
    *,
    q: str | None = None,
    category: str | None = None,
    state: str | None = None,
    mine: bool = False,
    page: int = 1,
    per_page: int = 25,
):
    """Articles the actor may see, newest first; every word must appear in the key, title, body or an
    attachment's text."""
    query = select(Article).order_by(Article.updated_at.desc(), Article.id.desc())
    if not is_knowledge_staff(actor):
        query = query.where(or_(Article.state == "formal", Article.author == actor.username))
    query = where_words(query, q, (Article.key, Article.title, Article.body), _in_attachments)
    if category:
        query = query.where(Article.category == category)
    if state:
        query = query.where(Article.state == state)
    if mine:
        query = query.where(Article.author == actor.username)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def _in_attachments(pattern: str):
    """Articles with an attachment whose text matches."""
    matching = select(ArticleAttachment.article_id).where(ArticleAttachment.text.ilike(pattern, escape="\\"))
    return Article.id.in_(matching)


def article_keys(keys: list[str]) -> set[str]:
    """Which of these article keys exist (form pickers check references with it)."""
    if not keys:
        return set()
    return set(db.session.scalars(select(Article.key).where(Article.key.in_(keys))))


def _find(ref: int | str) -> Article:
    """An article by id or key (KB-2026-000001)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        article = db.session.get(Article, int(ref))
    else:
        article = db.session.scalar(select(Article).where(Article.key == ref))
    if article is None:
        raise NotFound(_l("There is no knowledge article %(key)s.", key=ref))
    return article


def _visible(actor: User, ref: int | str) -> Article:
    article = _find(ref)
    if not can_see(actor, article):
        raise Forbidden(
            _l("This article is still under review: only its author and knowledge management see it.")
        )
    return article


def editable_article(actor: User, ref: int | str) -> Article:
    """An article the actor may change (Forbidden otherwise); the edit page checks before showing a form."""
    article = _visible(actor, ref)
    if not can_edit_article(actor, article):
        raise Forbidden(_l("Only the author may change an article, and only until it is published."))
    return article


@command
def get_article(actor: User, ref: int | str, *, count_view: bool = True) -> Article:
    """One article; a view of a formal article is counted (UPDATE ... views + 1: no lost counts)."""
    article = _visible(actor, ref)
    if count_view and article.state == "formal":
        db.session.execute(
            update(Article)
            .where(Article.id == article.id, Article.state == "formal")
            .values(views=Article.views + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        db.session.refresh(article)
    return article


def _clean(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, list] = {}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if key in LIMITS:
            if value is not None and not isinstance(value, str):
                errors[key] = [_l("Enter text.")]
            elif value and len(value) > LIMITS[key]:
                errors[key] = [_l("At most %(limit)s characters.", limit=LIMITS[key])]
            else:
                values[key] = value or ""
        elif key == "category":
            if value not in CATEGORIES:
                errors[key] = [_l("Choose a category from the knowledge catalogue.")]
            else:
                values[key] = value
        else:
            errors[key] = [_l("An article has no field '%(field)s'.", field=key)]
    for key in ("title", "category"):
        if (creating or key in values) and not values.get(key) and key not in errors:
            errors[key] = [_l("This field is required.")]
    if errors:
        raise InvalidInput(_l("Please correct the marked fields."), errors)
    return values


def _checked(files: Iterable[Upload], already: int = 0):
    """Every upload checked before anything is stored (one bad file rejects the whole submission)."""
    checked = [check_upload(name, data) for name, data in files]
    if already + len(checked) > MAX_ATTACHMENTS:
        message = _l("An article has at most %(limit)s attachments.", limit=MAX_ATTACHMENTS)
        raise InvalidInput(message, {"attachments": [message]})
    return checked


def _attach(article: Article, checked, actor: str, at: datetime) -> list[dict]:
    added = []
    for item in checked:
        digest = hashlib.sha256(item.data).hexdigest()
        article.attachments.append(
            ArticleAttachment(
                file_name=item.file_name,
                content_type=item.content_type,
                size=len(item.data),
                sha256=digest,
                data=item.data,
                text=item.text,
                uploaded_by=actor,
                uploaded_at=at,
            )
        )
        added.append({"file_name": item.file_name, "size": len(item.data), "sha256": digest})
    return added


def _audit(kind: str, actor: str | None, article: Article, payload: dict, at: datetime) -> None:
    audit.append(
        kind=kind, actor=actor, instance_id=None, payload={"key": article.key, **payload}, result={}, at=at
    )


@command
def submit_article(
    actor: User,
    data: dict[str, Any],
    *,
    files: Iterable[Upload] = (),
    source_key: str | None = None,
    at: datetime | None = None,
    commit: bool = True,
) -> Article:
    """Anyone submits an article (title, category, body) with optional documents; it starts temporary.

    :param source_key: the business key of the incident/problem it comes from, if any.
    """
    values = _clean(data, creating=True)
    checked = _checked(files)
    now = at or get_runtime().now()
    article = Article(
        key=next_record_key("article", now),
        state="temporary",
        author=actor.username,
        source_key=str(source_key)[:32] if source_key else None,
        views=0,
        created_at=now,
        updated_at=now,
        **{"body": "", **values},
    )
    db.session.add(article)
    added = _attach(article, checked, actor.username, now)
    _audit("kb_submit", actor.username, article, {**values, "attachments": added}, now)
    if commit:
        db.session.commit()
    return article


@command
def update_article(
    actor: User, ref: int | str, data: dict[str, Any], *, files: Iterable[Upload] = (), commit: bool = True
) -> Article:
    """Change an article's title, category or body and add documents (its author while temporary)."""
    article = editable_article(actor, ref)
    values = _clean(data, creating=False)
    checked = _checked(files, len(article.attachments))
    now = get_runtime().now()
    changed = {key: value for key, value in values.items() if getattr(article, key) != value}
    for key, value in changed.items():
        setattr(article, key, value)
    added = _attach(article, checked, actor.username, now)
    if changed or added:
        article.updated_at = now
        _audit("kb_update", actor.username, article, {**changed, "attachments": added}, now)
    if commit:
        db.session.commit()
    return article


def _review(actor: User, ref: int | str, *, role_check) -> Article:
    article = _find(ref)
    if not role_check(actor):
        raise Forbidden(_l("Only knowledge management reviews articles."))
    if article.state != "temporary":
        raise Conflict(_l("Only a temporary article can be reviewed; %(key)s is not.", key=article.key))
    return article


@command
def publish_article(
    actor: User, ref: int | str, at: datetime, *, comment: str | None = None, commit: bool = True
) -> Article:
    """Move a temporary article into the formal knowledge base (knowledge managers)."""
    article = _review(actor, ref, role_check=lambda user: user.has_role(PUBLISHER))
    article.state = "formal"
    article.published_at = article.updated_at = at
    article.reviewer = actor.username
    if comment and comment.strip():
        article.reviewer_comment = comment.strip()[:2000]
    _audit("kb_publish", actor.username, article, {"comment": comment}, at)
    if commit:
        db.session.commit()
    return article


@command
def reject_article(
    actor: User, ref: int | str, comment: str, *, at: datetime | None = None, commit: bool = True
) -> Article:
    """Send a temporary article back to its author with a comment (knowledge managers and operators)."""
    article = _review(actor, ref, role_check=is_knowledge_staff)
    comment = (comment or "").strip()
    if not comment:
        message = _l("Tell the author what to change.")
        raise InvalidInput(message, {"comment": [message]})
    now = at or get_runtime().now()
    article.reviewer, article.reviewer_comment = actor.username, comment[:2000]
    article.updated_at = now
    _audit("kb_reject", actor.username, article, {"comment": comment[:2000]}, now)
    if commit:
        db.session.commit()
    return article


@command
def retire_article(
    actor: User, ref: int | str, *, at: datetime | None = None, commit: bool = True
) -> Article:
    """Take an article out of use (knowledge managers); it stays readable for knowledge management."""
    article = _find(ref)
    if not actor.has_role(PUBLISHER):
        raise Forbidden(_l("Only knowledge managers retire articles."))
    if article.state == "retired":
        raise Conflict(_l("%(key)s is already retired.", key=article.key))
    now = at or get_runtime().now()
    article.state, article.retired_at, article.updated_at = "retired", now, now
    _audit("kb_retire", actor.username, article, {}, now)
    if commit:
        db.session.commit()
    return article


@command
def add_attachments(actor: User, ref: int | str, files: Iterable[Upload]) -> list[ArticleAttachment]:
    """Attach documents to an article its actor may edit."""
    article = editable_article(actor, ref)
    checked = _checked(files, len(article.attachments))
    if not checked:
        message = _l("Choose a file to attach.")
        raise InvalidInput(message, {"attachments": [message]})
    now = get_runtime().now()
    added = _attach(article, checked, actor.username, now)
    article.updated_at = now
    _audit("kb_attach", actor.username, article, {"attachments": added}, now)
    db.session.commit()
    return article.attachments[-len(added) :]


@command
def remove_attachment(actor: User, ref: int | str, attachment_id: int) -> None:
    """Delete one document of an article its actor may edit."""
    article = editable_article(actor, ref)
    item = next((a for a in article.attachments if a.id == attachment_id), None)
    if item is None:
        raise NotFound(_l("This attachment does not exist (any more)."))
    now = get_runtime().now()
    article.attachments.remove(item)
    article.updated_at = now
    _audit("kb_detach", actor.username, article, {"file_name": item.file_name, "sha256": item.sha256}, now)
    db.session.commit()


def get_attachment(actor: User, ref: int | str, attachment_id: int) -> ArticleAttachment:
    """One document with its bytes, for whoever may see its article (temporary: author, knowledge roles)."""
    article = _visible(actor, ref)
    item = db.session.scalar(
        select(ArticleAttachment)
        .options(undefer(ArticleAttachment.data))
        .where(ArticleAttachment.id == attachment_id, ArticleAttachment.article_id == article.id)
    )
    if item is None:
        raise NotFound(_l("This attachment does not exist (any more)."))
    return item
