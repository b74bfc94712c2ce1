"""Business records the processes refer to."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._types import UTCDateTime, utc_now


class ConfigurationItem(db.Model):
    """A configuration item (CI) of the CMDB, named by incidents, problems and changes by its ``code``.

    Relations live in ``ci_relation``, every change of a field in ``ci_history`` (app/models/cmdb.py).
    """

    __tablename__ = "configuration_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    ci_class: Mapped[str] = mapped_column(String(64), index=True)
    serial_number: Mapped[str | None] = mapped_column(String(120))
    version: Mapped[str | None] = mapped_column(String(64))
    #: planned, in_use, maintenance or retired (app/services/core/catalogues.py)
    status: Mapped[str] = mapped_column(String(32), default="in_use", index=True)
    owner: Mapped[str | None] = mapped_column(String(120))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KeyCounter(db.Model):
    """The last number handed out per business-key prefix and year (INC-2026-000123)."""

    __tablename__ = "key_counter"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
