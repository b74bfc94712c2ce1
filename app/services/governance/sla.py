"""Service level targets: the table the SLM manager edits, and the lookups BPMN timers call.

Incident timers read their durations from here at the moment the timer is reached, e.g.
``<timeDuration>sla_duration(priority, category, "tier")</timeDuration>``; the human task's due date follows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import SlaTarget, User
from app.services.core.unit import command
from app.services.errors import Forbidden, InvalidInput, NotFound
from app.services.governance import audit

SLA_KINDS = ("response", "tier", "resolution")
#: Targets in minutes (response, per tier, resolution) used until the SLM manager edits the table.
SLA_DEFAULTS = {
    "P1": (15, 60, 240),
    "P2": (30, 120, 480),
    "P3": (120, 480, 3 * 24 * 60),
    "P4": (480, 2 * 24 * 60, 10 * 24 * 60),
}
SLA_EDITORS = {"slm_manager", "admin"}


def ensure_defaults() -> None:
    """Create the default row per priority for every service ("*") where none exists (the caller commits)."""
    have = {row.priority for row in db.session.scalars(select(SlaTarget).where(SlaTarget.service == "*"))}
    for priority, (response, tier, resolution) in SLA_DEFAULTS.items():
        if priority not in have:
            db.session.add(
                SlaTarget(
                    service="*",
                    priority=priority,
                    response_minutes=response,
                    tier_minutes=tier,
                    resolution_minutes=resolution,
                    warning_percent=80,
                )
            )


def target_for(service: str | None, priority: str | None) -> tuple[int, int, int, int]:
    """(response, tier, resolution, warning %) for the service and priority: its own row, else "*", else
    the built-in default (P4 when the priority is unknown)."""
    priority = priority if priority in SLA_DEFAULTS else "P4"
    rows = {
        row.service: row
        for row in db.session.scalars(
            select(SlaTarget).where(
                SlaTarget.priority == priority, SlaTarget.service.in_([service or "*", "*"])
            )
        )
    }
    row = rows.get(service or "*") or rows.get("*")
    if row is None:
        return (*SLA_DEFAULTS[priority], 80)
    return row.response_minutes, row.tier_minutes, row.resolution_minutes, row.warning_percent


def _minutes(priority: Any, category: Any, kind: Any, warning: bool = False) -> int:
    if kind not in SLA_KINDS:
        raise ValueError(f"the SLA kind must be one of {', '.join(SLA_KINDS)}, not {kind!r}")
    response, tier, resolution, percent = target_for(str(category) if category else None, str(priority or ""))
    minutes = {"response": response, "tier": tier, "resolution": resolution}[kind]
    return max(1, minutes * percent // 100) if warning else minutes


def sla_duration(priority: Any, category: Any, kind: Any) -> str:
    """The target as an ISO 8601 duration, e.g. ``PT240M`` (a timer's timeDuration)."""
    return f"PT{_minutes(priority, category, kind)}M"


def sla_warning(priority: Any, category: Any, kind: Any) -> str:
    """The point of breach risk (the warning percentage of the target) as an ISO 8601 duration."""
    return f"PT{_minutes(priority, category, kind, warning=True)}M"


def sla_due(start: Any, priority: Any, category: Any, kind: Any, warning: bool = False) -> str:
    """``start`` (an ISO date-time, e.g. the report time) plus the target: a timer's timeDate."""
    began = datetime.fromisoformat(str(start))
    if began.tzinfo is None:
        raise ValueError("the SLA start time has no time zone")
    return (began + timedelta(minutes=_minutes(priority, category, kind, warning))).isoformat()


LOOKUPS = {"sla_duration": sla_duration, "sla_warning": sla_warning, "sla_due": sla_due}


def list_targets() -> list[SlaTarget]:
    """Every target, by service then priority (everyone signed in may read the SLA)."""
    return list(db.session.scalars(select(SlaTarget).order_by(SlaTarget.service, SlaTarget.priority)))


def _check(values: dict[str, Any]) -> dict[str, int]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, int] = {}
    for field, low, high in (
        ("response_minutes", 1, 525600),
        ("tier_minutes", 1, 525600),
        ("resolution_minutes", 1, 525600),
        ("warning_percent", 1, 99),
    ):
        try:
            number = int(values.get(field))
        except (TypeError, ValueError):
            errors[field] = [str(_l("Enter a whole number."))]
            continue
        if not low <= number <= high:
            errors[field] = [str(_l("Enter a number from %(low)s to %(high)s.", low=low, high=high))]
        clean[field] = number
    if not errors and clean["response_minutes"] > clean["resolution_minutes"]:
        errors["response_minutes"] = [
            str(_l("The response target cannot be longer than the resolution target."))
        ]
    if errors:
        raise InvalidInput(_l("Please correct the marked fields."), errors)
    return clean


@command
def save_target(actor: User, service: str, priority: str, values: dict[str, Any], now: datetime) -> SlaTarget:
    """Create or change one target (SLM managers); the change is audited with before and after."""
    if not actor.role_codes & SLA_EDITORS:
        raise Forbidden(_l("Only the service level manager may change service level targets."))
    if priority not in SLA_DEFAULTS:
        raise NotFound(_l("No such priority."))
    service = (service or "*").strip()[:64] or "*"
    clean = _check(values)
    row = db.session.scalar(
        select(SlaTarget).where(SlaTarget.service == service, SlaTarget.priority == priority)
    )
    before = None
    if row is None:
        row = SlaTarget(service=service, priority=priority, **clean)
        db.session.add(row)
    else:
        before = {field: getattr(row, field) for field in clean}
        for field, value in clean.items():
            setattr(row, field, value)
    row.updated_by, row.updated_at = actor.username, now
    audit.append(
        kind="sla_target",
        actor=actor.username,
        instance_id=None,
        payload={"service": service, "priority": priority, "before": before, "after": clean},
        result={},
        at=now,
    )
    db.session.commit()
    return row
