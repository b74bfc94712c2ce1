"""The known error database (KEDB) and the knowledge base: articles and their attached documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._types import UTCDateTime, utc_now
from app.models.records import ConfigurationItem

#: Which CIs a known error affects.
known_error_ci = Table(
    "known_error_ci",
    db.metadata,
    Column("known_error_id", ForeignKey("known_error.id", ondelete="CASCADE"), primary_key=True),
    Column("ci_id", ForeignKey("configuration_item.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class KnownError(db.Model):
    """A problem whose root cause is known, with its workaround (KE-2026-000001)."""

    __tablename__ = "known_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    symptoms: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    workaround: Mapped[str] = mapped_column(Text, default="")
    #: open, resolved or retired
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    #: business key of the problem instance it came from (PRB-2026-000001), if any
    problem_key: Mapped[str | None] = mapped_column(String(32), index=True)
    author: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_by: Mapped[str | None] = mapped_column(String(64))

    cis: Mapped[list[ConfigurationItem]] = relationship(
        secondary=known_error_ci, order_by=ConfigurationItem.code
    )

    @property
    def ci_codes(self) -> list[str]:
        """Codes of the affected CIs."""
        return [ci.code for ci in self.cis]


class Article(db.Model):
    """A knowledge article: temporary until a knowledge manager publishes it (formal), then maybe retired."""

    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    #: a code of the knowledge catalogue (app/services/core/catalogues.py CATEGORIES)
    category: Mapped[str] = mapped_column(String(32), index=True)
    #: plain text with simple markdown, rendered escaped
    body: Mapped[str] = mapped_column(Text, default="")
    #: temporary, formal or retired
    state: Mapped[str] = mapped_column(String(16), default="temporary", index=True)
    author: Mapped[str] = mapped_column(String(64), index=True)
    reviewer: Mapped[str | None] = mapped_column(String(64))
    reviewer_comment: Mapped[str | None] = mapped_column(Text)
    #: business key of the incident/problem/review it came from, if any
    source_key: Mapped[str | None] = mapped_column(String(32))
    views: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[ArticleAttachment]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleAttachment.id"
    )


class ArticleAttachment(db.Model):
    """A Word, Excel or text document attached to an article; its text is kept for search."""

    __tablename__ = "article_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: the file itself; deferred so that listing attachments does not load their bytes
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: text extracted for search (document.xml / sharedStrings.xml / the text file)
    text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    uploaded_by: Mapped[str | None] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    article: Mapped[Article] = relationship(back_populates="attachments")
