"""Where an outbox message goes: a new instance, a waiting catch event, a note on a record, or nowhere yet."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import MessageSubscription, OutboxMessage, ProcessInstance, ProcessVersion
from app.services import audit, commands, notifications
from app.services.instances import start_as_platform
from app.services.messaging import KEY_FIELDS
from app.services.runtime import get_runtime
from engine import EngineError, MessageNotAccepted


def route(row: OutboxMessage, now: datetime) -> tuple[str, ProcessInstance | None, str | None]:
    """Deliver ``row`` inside the caller's transaction; returns (status, receiving instance, error)."""
    started = _start_instances(row, now)
    if started:
        return "delivered", started[0], None
    delivered = _to_waiting_catch(row, now)
    if delivered is not None:
        return "delivered", delivered, None
    noted = _note(row, now)
    if noted is not None:
        return "noted", noted, None
    return "undeliverable", None, f"No process starts on '{row.name}' and no instance waits for it."


def _start_instances(row: OutboxMessage, now: datetime) -> list[ProcessInstance]:
    """A new instance of every current process that starts on this message."""
    runtime = get_runtime()
    started = []
    for version in db.session.scalars(select(ProcessVersion).where(ProcessVersion.is_current)):
        if row.name in runtime.package_for(version).start_messages:
            started.append(
                start_as_platform(
                    version,
                    {},
                    now,
                    kind="start_by_message",
                    message=row.name,
                    message_payload=row.payload,
                    payload={"event_id": row.event_id, "payload": row.payload},
                )
            )
    return started


def _matches(subscription: MessageSubscription, correlation: dict) -> bool:
    expected = subscription.correlation or {}
    return bool(expected) and all(correlation.get(key) == value for key, value in expected.items())


def _to_waiting_catch(row: OutboxMessage, now: datetime) -> ProcessInstance | None:
    runtime = get_runtime()
    query = (
        select(MessageSubscription)
        .where(MessageSubscription.name == row.name)
        .order_by(MessageSubscription.id)
    )
    for subscription in db.session.scalars(query):
        if not _matches(subscription, row.correlation) or subscription.instance_id == row.source_instance_id:
            continue
        instance = db.session.scalar(
            select(ProcessInstance)
            .where(ProcessInstance.id == subscription.instance_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if instance is None or instance.status != "running":
            continue
        package = runtime.package_for(instance.version)
        try:
            result = runtime.engine.deliver_message(package, instance.snapshot, row.name, row.payload)
        except MessageNotAccepted:
            continue
        except EngineError:
            raise
        commands.apply_result(instance, result, now, package)
        commands.record(
            "deliver_message",
            "system",
            instance,
            {
                "message": row.name,
                "event_id": row.event_id,
                "element_id": subscription.element_id,
                "payload": row.payload,
                "correlation": row.correlation,
            },
            result,
            now,
        )
        return instance
    return None


def _note(row: OutboxMessage, now: datetime) -> ProcessInstance | None:
    """A message naming a record that no longer waits for it is written into that record's history."""
    keys = [row.payload.get(field) for field in KEY_FIELDS]
    for key in (k for k in keys if isinstance(k, str) and k):
        instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.business_key == key))
        if instance is None or instance.id == row.source_instance_id:
            continue
        sender = row.source_instance.business_key if row.source_instance else None
        audit.append(
            kind="message_noted",
            actor="system",
            instance_id=instance.id,
            payload={"message": row.name, "event_id": row.event_id, "payload": row.payload, "from": sender},
            result={"status": instance.status},
            at=now,
        )
        with force_locale("zh_CN"):
            text = str(
                _l(
                    "%(record)s received '%(message)s' from %(sender)s.",
                    record=instance.business_key,
                    message=row.name,
                    sender=sender or "-",
                )
            )
        notifications.notify([instance.started_by], text, instance=instance, at=now)
        return instance
    return None
