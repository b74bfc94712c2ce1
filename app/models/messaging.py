"""Messages between instances (a durable outbox), waiting catch events, links between records, notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._types import JSONType, UTCDateTime, utc_now

_INSTANCE = "process_instance.id"


class OutboxMessage(db.Model):
    """A message an instance threw, stored with the command that threw it and delivered after commit."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    correlation: Mapped[dict] = mapped_column(JSONType, default=dict)
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    source_instance_id: Mapped[int | None] = mapped_column(ForeignKey(_INSTANCE), index=True)
    #: pending -> delivered (to a catch or a new instance) | noted (on an instance that no longer waits)
    #: | undeliverable (retried; shown to admins)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    target_instance_id: Mapped[int | None] = mapped_column(ForeignKey(_INSTANCE))

    source_instance = relationship("ProcessInstance", foreign_keys=[source_instance_id])
    target_instance = relationship("ProcessInstance", foreign_keys=[target_instance_id])


class MessageDelivery(db.Model):
    """That an outbox event was delivered, written in the delivering transaction: one row per event, ever.

    The unique event id makes a second delivery of the same event fail at commit whatever the interleaving
    of deliverers (request thread, scheduler, another worker), so its effects (a second RFC) never land.
    """

    __tablename__ = "message_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    target_instance_id: Mapped[int | None] = mapped_column(ForeignKey(_INSTANCE))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MessageSubscription(db.Model):
    """A message catch event an instance waits on, with the correlation values it expects."""

    __tablename__ = "message_subscription"
    __table_args__ = (UniqueConstraint("instance_id", "engine_task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey(_INSTANCE, ondelete="CASCADE"), index=True)
    engine_task_id: Mapped[str] = mapped_column(String(64))
    element_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120), index=True)
    correlation: Mapped[dict] = mapped_column(JSONType, default=dict)


class RecordLink(db.Model):
    """Two instances that belong together (an incident and the problem it raised, a change and a release)."""

    __tablename__ = "record_link"
    __table_args__ = (UniqueConstraint("from_instance_id", "to_instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_instance_id: Mapped[int] = mapped_column(ForeignKey(_INSTANCE, ondelete="CASCADE"), index=True)
    to_instance_id: Mapped[int] = mapped_column(ForeignKey(_INSTANCE, ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(64))  # the message that made the link, e.g. problem_requested
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    from_instance = relationship("ProcessInstance", foreign_keys=[from_instance_id])
    to_instance = relationship("ProcessInstance", foreign_keys=[to_instance_id])


class Notification(db.Model):
    """An in-app notice to one user: what a process tells a person, with a link to the record."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey(_INSTANCE, ondelete="CASCADE"))
    element_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    instance = relationship("ProcessInstance")
