"""Which version new instances start on, and instances started by the platform (messages, schedules)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import ProcessInstance, ProcessVersion
from app.services.core.keys import next_key
from app.services.errors import NotFound
from app.services.governance.users import system_user
from app.services.workflow.transaction import Transaction


def current_version(process_id: str) -> ProcessVersion:
    """The deployed version new instances of the process start on."""
    version = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.process_id == process_id, ProcessVersion.is_current)
    )
    if version is None:
        raise NotFound(_l("No deployed process '%(process_id)s'.", process_id=process_id))
    return version


def start_as_platform(
    txn: Transaction,
    version: ProcessVersion,
    extra: dict[str, Any],
    *,
    kind: str,
    payload: dict[str, Any],
    actor: str = "system",
    message: str | None = None,
    message_payload: dict[str, Any] | None = None,
    complete_start_task: bool = True,
    scheduled: bool = False,
) -> ProcessInstance:
    """Start an instance that no form started: on a message or a schedule (inside ``txn``).

    The platform user ``system`` is its starter; the audit event records everything needed to replay it.
    """
    package = txn.runtime.package_for(version)
    key = next_key(version.process_id, txn.now)
    data = dict(
        message_payload or {},
        **extra,
        sys_business_key=key,
        sys_started_by=actor,
        sys_started_at=txn.now.isoformat(),
    )
    result = txn.engine(
        lambda engine: engine.start(
            package, data, message=message, complete_start_task=complete_start_task, scheduled=scheduled
        )
    )
    if message is not None:
        delivered = txn.engine(
            lambda engine: engine.deliver_message(package, result.snapshot, message, message_payload or {})
        )
        result = replace(delivered, facts=list(result.facts) + list(delivered.facts))
    instance = ProcessInstance(
        version=version,
        process_id=version.process_id,
        business_key=key,
        title=str(data.get("title", ""))[:300],
        snapshot=result.snapshot,
        started_by_id=system_user().id,
        started_at=txn.now,
    )
    db.session.add(instance)
    db.session.flush()
    txn.apply(
        instance,
        result,
        kind=kind,
        actor_name=actor,
        package=package,
        payload={
            "process_id": version.process_id,
            "content_hash": version.content_hash,
            "data": data,
            "message": message,
            **payload,
        },
    )
    return instance
