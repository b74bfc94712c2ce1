"""Keyword search shared by the registries: every word typed must appear in one of the searched columns."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, or_


def like_pattern(word: str) -> str:
    """``%word%`` for ILIKE with ``\\`` as the escape character, so ``%`` and ``_`` typed are literal."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def words(q: str | None, limit: int = 8) -> list[str]:
    """The words of a search box (at most ``limit``, each at most 100 characters)."""
    return [word[:100] for word in (q or "").split()[:limit]]


def where_words(query: Select, q: str | None, columns: Sequence, extra=None) -> Select:
    """Narrow ``query`` so that each word of ``q`` matches (ILIKE) one of ``columns``.

    :param extra: ``pattern -> clause`` for a match elsewhere (an article's attachments).
    """
    for word in words(q):
        pattern = like_pattern(word)
        clauses = [column.ilike(pattern, escape="\\") for column in columns]
        if extra is not None:
            clauses.append(extra(pattern))
        query = query.where(or_(*clauses))
    return query
