"""Reading process instances: one instance, its history, the requester's list, every instance for staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ProcessInstance, User
from app.services.core.runtime import get_runtime
from app.services.errors import Forbidden, NotFound
from app.services.governance.permissions import can_view_instance, is_staff


def get_instance(
    actor: User, instance_id: int | None = None, business_key: str | None = None
) -> ProcessInstance:
    """An instance the user may see (404 when absent, 403 when not theirs to see)."""
    if business_key is not None:
        instance = db.session.scalar(
            select(ProcessInstance).where(ProcessInstance.business_key == business_key)
        )
    else:
        instance = db.session.get(ProcessInstance, instance_id) if instance_id is not None else None
    if instance is None:
        raise NotFound(_l("No such process instance."))
    if not can_view_instance(actor, instance):
        raise Forbidden(_l("You may not see this process instance."))
    return instance


@dataclass(frozen=True)
class HistoryEntry:
    """One command in an instance's life, as an auditor or requester reads it."""

    sequence: int
    at: Any
    actor: str | None
    kind: str
    element_id: str | None
    name: str | None
    form: str | None
    data: dict
    tasks_after: list[dict]


def instance_history(actor: User, instance: ProcessInstance) -> list[HistoryEntry]:
    """Every command of the instance in order, with what was entered and which tasks followed."""
    if not can_view_instance(actor, instance):
        raise Forbidden(_l("You may not see this process instance."))
    package = get_runtime().package_for(instance.version)
    entries = []
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == instance.id).order_by(AuditEvent.sequence)
    )
    for event in events:
        element_id = event.payload.get("element_id")
        if event.kind == "start" and package.start_task:
            element_id = package.start_task
        spec = package.user_tasks.get(element_id) if element_id else None
        data = {k: v for k, v in (event.payload.get("data") or {}).items() if not k.startswith("sys_")}
        if event.kind == "cancel":
            data = {"reason": event.payload.get("reason")}
        entries.append(
            HistoryEntry(
                event.sequence,
                event.at,
                event.actor,
                event.kind,
                element_id,
                spec.name if spec else None,
                spec.form if spec else None,
                data,
                event.result.get("open_tasks", []),
            )
        )
    return entries


def my_requests(actor: User, *, status: str | None = None, page: int = 1, per_page: int = 25):
    """The instances the user started, newest first."""
    query = select(ProcessInstance).where(ProcessInstance.started_by_id == actor.id)
    if status:
        query = query.where(ProcessInstance.status == status)
    return db.paginate(
        query.order_by(ProcessInstance.id.desc()), page=page, per_page=per_page, error_out=False
    )


def diagram_xml(actor: User, instance: ProcessInstance) -> str:
    """The BPMN text of the version the instance runs on."""
    if not can_view_instance(actor, instance):
        raise Forbidden(_l("You may not see this process instance."))
    return instance.version.files[f"{instance.process_id}.bpmn"]


def list_instances(
    actor: User,
    *,
    process_id: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 25,
):
    """All instances, for staff who oversee processes (owners, auditors, admins)."""
    if not is_staff(actor):
        raise Forbidden(_l("Only process owners and auditors may list every instance."))
    query = select(ProcessInstance)
    if process_id:
        query = query.where(ProcessInstance.process_id == process_id)
    if status:
        query = query.where(ProcessInstance.status == status)
    return db.paginate(
        query.order_by(ProcessInstance.id.desc()), page=page, per_page=per_page, error_out=False
    )
