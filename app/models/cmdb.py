"""The CMDB around configuration items: relations between CIs and the field-by-field history of each CI."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._types import JSONType, UTCDateTime, utc_now
from app.models.records import ConfigurationItem


class CIRelation(db.Model):
    """A directed relation ``source --kind--> target`` (an application *runs_on* a server)."""

    __tablename__ = "ci_relation"
    __table_args__ = (UniqueConstraint("source_id", "target_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("configuration_item.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[int] = mapped_column(
        ForeignKey("configuration_item.id", ondelete="CASCADE"), index=True
    )
    #: depends_on, runs_on, connects_to or part_of (app/services/core/catalogues.py)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by: Mapped[str | None] = mapped_column(String(64))

    source: Mapped[ConfigurationItem] = relationship(foreign_keys=[source_id])
    target: Mapped[ConfigurationItem] = relationship(foreign_keys=[target_id])


class CIHistory(db.Model):
    """One change of a CI: who, when, each field's before and after, and what authorised it.

    ``authority`` is the business key of the change (or release) instance that authorised the change, or
    ``manual`` for a direct edit on the CMDB pages, which then carries a ``reason``. The configuration audit
    reads it: only changes under an authorised RFC are accepted.
    """

    __tablename__ = "ci_history"
    __table_args__ = (Index("ix_ci_history_ci_at", "ci_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ci_id: Mapped[int] = mapped_column(ForeignKey("configuration_item.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(64))
    #: created, updated, related or unrelated
    action: Mapped[str] = mapped_column(String(16))
    #: field -> {"before": ..., "after": ...}; a relation is {"relation": {"before"/"after": "runs_on SRV-1"}}
    changes: Mapped[dict] = mapped_column(JSONType)
    authority: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
