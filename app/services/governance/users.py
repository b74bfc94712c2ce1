"""Users, roles and memberships (the admin pages and `flask seed-demo`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth_loaders import hash_token
from app.extensions import db
from app.models import Membership, Role, User
from app.roles import ROLES
from app.services.core.unit import command
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound

#: The platform's own account: it starts instances on messages and schedules and acts for timers.
SYSTEM_USER = "system"


def system_user() -> User:
    """The platform's own account (created on first use; it can never sign in)."""
    user = db.session.scalar(select(User).where(User.username == SYSTEM_USER))
    if user is None:
        # "!" matches no password hash: the account can never sign in.
        user = User(username=SYSTEM_USER, display_name="系统 (system)", active=False, password_hash="!")  # noqa: S106
        db.session.add(user)
        db.session.flush()
    return user


def require_admin(actor: User) -> None:
    """Only administrators manage users and roles."""
    if not actor.has_role("admin"):
        raise Forbidden(_l("Only administrators may manage users and roles."))


def ensure_roles() -> None:
    """Create or rename the roles of the catalogue (idempotent; the caller commits)."""
    existing = {role.code: role for role in db.session.scalars(select(Role))}
    for code, (zh, en) in ROLES.items():
        role = existing.get(code) or Role(code=code)
        role.name_zh, role.name_en = zh, en
        db.session.add(role)


def list_roles(actor: User) -> list[Role]:
    """Every role with its members."""
    require_admin(actor)
    return list(db.session.scalars(select(Role).order_by(Role.code)))


def list_users(actor: User, *, q: str | None = None, page: int = 1, per_page: int = 50):
    """Users by name, optionally filtered."""
    require_admin(actor)
    query = select(User).order_by(User.username)
    if q:
        query = query.where(User.username.ilike(f"%{q}%") | User.display_name.ilike(f"%{q}%"))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def get_user(actor: User, user_id: int) -> User:
    """One user, for the admin."""
    require_admin(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


@dataclass
class UserInput:
    """What the admin form or the seed command gives for a user."""

    username: str
    display_name: str
    email: str | None = None
    password: str | None = None
    active: bool = True
    locale: str | None = None
    timezone: str | None = None


def _check(data: UserInput, creating: bool) -> None:
    errors: dict[str, list] = {}
    if (
        not data.username
        or len(data.username) > 64
        or not data.username.replace("_", "").replace(".", "").isalnum()
    ):
        errors["username"] = [_l("Use 1–64 letters, digits, dots or underscores.")]
    if not data.display_name or len(data.display_name) > 120:
        errors["display_name"] = [_l("A display name of at most 120 characters is required.")]
    if creating and not data.password:
        errors["password"] = [_l("A password is required for a new user.")]
    if data.password is not None and data.password and len(data.password) < 4:
        errors["password"] = [_l("Use at least 4 characters.")]
    if errors:
        raise InvalidInput(_l("Please correct the marked fields."), errors)


@command
def create_user(
    actor: User | None, data: UserInput, roles: set[str] = frozenset(), manager_roles: set[str] = frozenset()
) -> User:
    """Create a user with roles; ``actor`` None is the seed command."""
    if actor is not None:
        require_admin(actor)
    _check(data, creating=True)
    if db.session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(
            _l("The username '%(username)s' is taken.", username=data.username),
            details={"fields": {"username": [_l("Taken.")]}},
        )
    user = User(
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        active=data.active,
        locale=data.locale,
        timezone=data.timezone,
    )
    user.set_password(data.password or secrets.token_urlsafe(16))
    db.session.add(user)
    _set_roles(user, roles, manager_roles)
    db.session.commit()
    return user


@command
def update_user(actor: User, user_id: int, data: UserInput, roles: set[str], manager_roles: set[str]) -> User:
    """Change a user's details, password (when given) and roles."""
    user = get_user(actor, user_id)
    data.username = user.username
    _check(data, creating=False)
    if user.id == actor.id and "admin" not in roles:
        raise InvalidInput(
            _l("You cannot remove your own administrator role."), {"roles": [_l("Keep the admin role.")]}
        )
    user.display_name, user.email, user.active = data.display_name, data.email, data.active
    user.locale, user.timezone = data.locale, data.timezone
    if data.password:
        user.set_password(data.password)
    _set_roles(user, roles, manager_roles)
    db.session.commit()
    return user


def _set_roles(user: User, roles: set[str], manager_roles: set[str]) -> None:
    unknown = (set(roles) | set(manager_roles)) - set(ROLES)
    if unknown:
        raise InvalidInput(
            _l("Unknown roles."),
            {"roles": [_l("Unknown role: %(code)s", code=code) for code in sorted(unknown)]},
        )
    wanted = {code: code in manager_roles for code in roles}
    for membership in list(user.memberships):
        if membership.role_code not in wanted:
            user.memberships.remove(membership)
        else:
            membership.is_manager = wanted.pop(membership.role_code)
    for code, manager in wanted.items():
        user.memberships.append(Membership(role_code=code, is_manager=manager))


@command
def issue_api_token(actor: User, user_id: int) -> str:
    """Give a user (e.g. a monitoring system's account) a new API token; shown once, stored hashed."""
    user = get_user(actor, user_id) if actor.id != user_id else actor
    token = secrets.token_urlsafe(32)
    user.api_token_hash = hash_token(token)
    db.session.commit()
    return token


@command
def set_locale(actor: User, locale: str) -> None:
    """Remember the user's language choice."""
    if locale not in ("zh_CN", "en"):
        raise InvalidInput(_l("Unknown language."), {"locale": [_l("Choose zh_CN or en.")]})
    actor.locale = locale
    db.session.commit()
