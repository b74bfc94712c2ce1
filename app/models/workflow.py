"""Process versions, instances, their human tasks and waiting timers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._types import JSONType, UTCDateTime, utc_now


class ProcessVersion(db.Model):
    """An immutable, content-hashed version of one process (its BPMN and the DMN files it uses)."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    files: Mapped[dict] = mapped_column(JSONType, deferred=True)  # file name -> XML text, loaded when read
    author: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    deployed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)


class ProcessInstance(db.Model):
    """One running or finished process, pinned to the version it started on."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(64), index=True)
    business_key: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    end_event: Mapped[str | None] = mapped_column(String(64))
    snapshot: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    completed_elements: Mapped[list] = mapped_column(JSONType, default=list)
    active_elements: Mapped[list] = mapped_column(JSONType, default=list)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    version: Mapped[ProcessVersion] = relationship()
    started_by = relationship("User")
    tasks: Mapped[list[HumanTask]] = relationship(back_populates="instance", order_by="HumanTask.id")

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(db.Model):
    """A user task of an instance, offered to the holders of its lane's role."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "engine_task_id"),
        Index("ix_human_task_inbox", "status", "role", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    engine_task_id: Mapped[str] = mapped_column(String(64))
    element_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    form: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | completed | cancelled
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: Offered to its assignee only (a requester's confirmation, a CAB vote), never to the whole role.
    personal: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str | None] = mapped_column(String(8))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    result: Mapped[dict | None] = mapped_column(JSONType)  # the validated form data it was completed with
    #: The task's own data for its form (context and prefill): in a parallel multi-instance task each
    #: instance has its own item (the CI to verify, the voter), which the instance's data does not show.
    data: Mapped[dict | None] = mapped_column(JSONType)

    instance: Mapped[ProcessInstance] = relationship(back_populates="tasks")
    assignee = relationship("User", foreign_keys=[assignee_id])
    completed_by = relationship("User", foreign_keys=[completed_by_id])


class Timer(db.Model):
    """A waiting timer event of an instance; the database, not the scheduler, is the source of truth."""

    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("instance_id", "engine_task_id"),
        Index("ix_timer_waiting", "fired_at", "due_at"),  # "the next unfired timers" without scanning history
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    engine_task_id: Mapped[str] = mapped_column(String(64))
    element_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
