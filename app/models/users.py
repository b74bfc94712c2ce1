"""Users, roles and who holds which role."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models._types import UTCDateTime, utc_now


class Role(db.Model):
    """A role of the process catalogue (a BPMN lane); its members are a group."""

    __tablename__ = "role"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    memberships: Mapped[list[Membership]] = relationship(back_populates="role", cascade="all, delete-orphan")

    def label(self, locale: str) -> str:
        """The role's name in the given locale."""
        return self.name_zh if locale.startswith("zh") else self.name_en


class User(UserMixin, db.Model):
    """A person who signs in."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        """Whether the account may sign in."""
        return self.active

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password."""
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if current_app else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def role_codes(self) -> set[str]:
        """The codes of every role the user holds."""
        return {m.role_code for m in self.memberships}

    @property
    def managed_role_codes(self) -> set[str]:
        """The roles whose tasks this user may reassign."""
        return {m.role_code for m in self.memberships if m.is_manager}

    def has_role(self, code: str) -> bool:
        """Whether the user holds the role."""
        return code in self.role_codes


class Membership(db.Model):
    """A user holding a role; a manager of a role may reassign its tasks."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "role_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("role.code", ondelete="CASCADE"), index=True)
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="memberships")
    role: Mapped[Role] = relationship(back_populates="memberships")
