"""Service level targets and the schedules of timer-started processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime, utc_now


class SlaTarget(db.Model):
    """Response, per-tier and resolution targets for one service (incident category) and priority.

    ``service`` "*" applies to every category without a row of its own. The SLM manager edits these.
    """

    __tablename__ = "sla_target"
    __table_args__ = (UniqueConstraint("service", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(64), default="*")
    priority: Mapped[str] = mapped_column(String(8))
    response_minutes: Mapped[int] = mapped_column(Integer)
    tier_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    warning_percent: Mapped[int] = mapped_column(Integer, default=80)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Schedule(db.Model):
    """When the platform next starts a timer-started process (one new instance per occurrence)."""

    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64), unique=True)
    expression: Mapped[str] = mapped_column(String(200))
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Occurrences left for a bounded cycle (R5/...); None repeats for ever.
    remaining: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
