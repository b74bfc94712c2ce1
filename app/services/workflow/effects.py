"""Pipeline step: platform effects — what completing a process step writes into the registries.

A user task names its effect with the ``platformEffect`` property (docs/contracts.md), e.g. the change's CMDB
update step writes CI history under the change's key. The effect runs inside the completing command's
transaction (the registry functions are called with ``commit=False``), as the user who completed the step or
the platform user, so the step and its registry change land together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.models import ProcessInstance, User
from app.services.registries import cmdb_changes, kedb, knowledge

Effect = Callable[[User, ProcessInstance, dict[str, Any], datetime], None]
EFFECTS: dict[str, Effect] = {}


def effect(name: str) -> Callable[[Effect], Effect]:
    """Register a platform effect under ``name``."""

    def register(function: Effect) -> Effect:
        EFFECTS[name] = function
        return function

    return register


def effect_of(properties: dict[str, str]) -> str | None:
    """The effect a step declares, if any."""
    return properties.get("platformEffect") or None


def unknown_effects(element_properties: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """(element id, effect name) of every declared effect the platform does not know (checked at deploy)."""
    return [
        (element, name)
        for element, props in element_properties.items()
        if (name := effect_of(props)) and name not in EFFECTS
    ]


def run(
    actor: User, instance: ProcessInstance, data: dict[str, Any], now: datetime, properties: dict[str, str]
) -> None:
    """Run the effect an element declares, if any (called for every element a command completed)."""
    name = effect_of(properties)
    if name:
        EFFECTS[name](actor, instance, data, now)


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
    knowledge.publish_article(
        actor, data.get("article_id") or "", now, comment=data.get("publish_note"), commit=False
    )


@effect("article_reject")
def article_reject(actor: User, instance: ProcessInstance, data: dict[str, Any], now: datetime) -> None:
    """The article is not taken: it goes back to its author with the reviewer's comment."""
    comment = data.get("review_comment") or data.get("filter_reason") or "—"
    knowledge.reject_article(actor, data.get("article_id") or "", str(comment), at=now, commit=False)
