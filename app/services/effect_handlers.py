"""The platform effects process steps may declare with ``platformEffect`` (see app/services/effects.py).

Each writes into a registry inside the completing command's transaction (``commit=False``), as the user who
completed the step (or the platform user for steps no person completed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import ProcessInstance, User
from app.services import cmdb_changes, kedb, knowledge
from app.services.effects import effect


@effect("known_error")
def known_error(actor: User, instance: ProcessInstance, data: dict[str, Any], now: datetime) -> None:
    """A problem whose root cause is known becomes (or updates) its known error record in the KEDB."""
    kedb.record_from_problem(actor, instance.business_key, data, now, commit=False)


@effect("cmdb_update")
def cmdb_update(actor: User, instance: ProcessInstance, data: dict[str, Any], now: datetime) -> None:
    """A change's CMDB update step: each CI it names gets a history entry under the change's key."""
    cmdb_changes.record_change_note(
        actor,
        instance.business_key,
        data.get("cmdb_cis") or [],
        data.get("cmdb_before") or "",
        data.get("cmdb_after") or "",
        now,
        commit=False,
    )


@effect("article_publish")
def article_publish(actor: User, instance: ProcessInstance, data: dict[str, Any], now: datetime) -> None:
    """The reviewed article moves from the temporary into the formal knowledge base."""
    knowledge.publish(
        actor, data.get("article_id") or "", now, comment=data.get("publish_note"), commit=False
    )


@effect("article_reject")
def article_reject(actor: User, instance: ProcessInstance, data: dict[str, Any], now: datetime) -> None:
    """The article is not taken: it goes back to its author with the reviewer's comment."""
    comment = data.get("review_comment") or data.get("filter_reason") or "—"
    knowledge.reject(actor, data.get("article_id") or "", str(comment), at=now, commit=False)
