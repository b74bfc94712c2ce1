"""In-app notices: the one platform function through which processes tell people things.

BPMN elements declare ``notifyTo`` / ``notifyText`` (docs/contracts.md); scripts may call
``notify(to, text)``.
Both end in ``notify`` here, so that e-mail can be added later in one place without touching a process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import HumanTask, Membership, Notification, ProcessInstance, User
from app.roles import REQUESTER, ROLES
from app.services.core.unit import command

_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
MAX_TEXT = 2000


def render_text(template: str, data: dict[str, Any]) -> str:
    """Fill ``{key}`` placeholders from task data; unknown keys stay as written (no format-string tricks)."""

    def value(match: re.Match) -> str:
        key = match.group(1)
        return str(data[key]) if key in data and data[key] is not None else match.group(0)

    return _PLACEHOLDER.sub(value, template)[:MAX_TEXT]


def resolve_recipients(spec: str, instance: ProcessInstance, data: dict[str, Any]) -> list[User]:
    """Users named by ``notifyTo``: roles, ``requester``, ``assignee:<element>``, ``user:<data key>``."""
    users: dict[int, User] = {}
    for token in (part.strip() for part in spec.split(",")):
        if not token:
            continue
        found: Iterable[User] = ()
        if token == REQUESTER:
            found = [instance.started_by] if instance.started_by else []
        elif token.startswith("assignee:"):
            element = token.removeprefix("assignee:")
            query = (
                select(User)
                .join(HumanTask, HumanTask.completed_by_id == User.id)
                .where(HumanTask.instance_id == instance.id, HumanTask.element_id == element)
            )
            found = db.session.scalars(query)
        elif token.startswith("user:"):
            names = data.get(token.removeprefix("user:"))
            names = names if isinstance(names, list) else [names]
            names = [n for n in names if isinstance(n, str)]
            found = db.session.scalars(select(User).where(User.username.in_(names))) if names else ()
        elif token in ROLES:
            query = select(User).join(Membership).where(Membership.role_code == token, User.active)
            found = db.session.scalars(query)
        for user in found:
            users[user.id] = user
    return list(users.values())


def notify(
    recipients: Iterable[User],
    text: str,
    *,
    instance: ProcessInstance | None = None,
    element_id: str | None = None,
    at: datetime,
) -> int:
    """Give each recipient a notice (inside the caller's transaction); returns how many were written."""
    count = 0
    for user in recipients:
        db.session.add(
            Notification(
                user_id=user.id,
                instance_id=instance.id if instance else None,
                element_id=element_id,
                text=text[:MAX_TEXT],
                created_at=at,
            )
        )
        count += 1
    return count


def unread_count(user: User) -> int:
    """How many notices the user has not read."""
    query = select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    return db.session.scalar(query) or 0


def list_notices(user: User, *, unread_only: bool = False, page: int = 1, per_page: int = 25):
    """The user's notices, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return db.paginate(query.order_by(Notification.id.desc()), page=page, per_page=per_page, error_out=False)


@command
def mark_read(user: User, ids: Iterable[int] | None, at: datetime) -> int:
    """Mark the user's notices read (all of them when ``ids`` is None); other users' notices are untouched."""
    statement = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    result = db.session.execute(statement.values(read_at=at))
    db.session.commit()
    return result.rowcount or 0
