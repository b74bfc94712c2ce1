"""Business keys such as INC-2026-000123: a prefix per process, a counter per prefix and year."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import KeyCounter

PREFIXES = {
    "incident": "INC",
    "problem": "PRB",
    "change": "CHG",
    "change_emergency": "ECH",
    "release": "REL",
    "config_audit": "CAU",
    "continuity_drill": "CDR",
    "isms_review": "ISM",
    "knowledge_review": "KNW",
    "sla_review": "SLR",
}


def prefix_for(process_id: str) -> str:
    """The key prefix of a process (REQ for processes without one of their own)."""
    return PREFIXES.get(process_id, "REQ")


#: Prefixes of the registries' records (not processes): known errors and knowledge articles.
RECORD_PREFIXES = {"known_error": "KE", "article": "KB"}


def next_key(process_id: str, at: datetime) -> str:
    """Hand out the next key for the process in the year of ``at``; the counter row stays locked to commit."""
    return next_prefixed_key(prefix_for(process_id), at)


def next_record_key(kind: str, at: datetime) -> str:
    """The next key of a registry record (``known_error`` → KE-2026-000001, ``article`` → KB-...)."""
    return next_prefixed_key(RECORD_PREFIXES[kind], at)


def next_prefixed_key(prefix: str, at: datetime) -> str:
    """The next ``PREFIX-YYYY-NNNNNN`` in the year of ``at``; the counter row stays locked to commit."""
    year = at.year
    query = select(KeyCounter).where(KeyCounter.prefix == prefix, KeyCounter.year == year).with_for_update()
    counter = db.session.scalar(query)
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(KeyCounter(prefix=prefix, year=year, last=0))
        except IntegrityError:
            pass  # another command created it first; lock theirs
        counter = db.session.scalar(query)
    counter.last += 1
    return f"{prefix}-{year}-{counter.last:06d}"
