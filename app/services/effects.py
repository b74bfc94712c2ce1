"""Platform effects of process steps: what completing a step writes into the registries.

A user task names its effect with the ``platformEffect`` property (docs/contracts.md), e.g. the change's CMDB
update step writes CI history under the change's key. The effect runs inside the completing command's
transaction, so the step and its registry change land together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.models import ProcessInstance, User

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
    _load_handlers()
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
        _load_handlers()
        EFFECTS[name](actor, instance, data, now)


def _load_handlers() -> None:
    """Import the modules whose functions register themselves (kept lazy to avoid import cycles)."""
    from app.services import effect_handlers  # noqa: F401
