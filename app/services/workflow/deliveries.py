"""Where an outbox message goes: a new instance, a waiting catch event, a note on a record, or nowhere yet."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import MessageSubscription, OutboxMessage, ProcessInstance, ProcessVersion
from app.services.core import notices
from app.services.workflow.messages import KEY_FIELDS
from app.services.workflow.starting import start_as_platform
from app.services.workflow.transaction import Transaction
from engine import MessageNotAccepted


def route(txn: Transaction, row: OutboxMessage) -> tuple[str, ProcessInstance | None, str | None]:
    """Deliver ``row`` inside ``txn``; returns (status, receiving instance, error)."""
    started = _start_instances(txn, row)
    if started:
        return "delivered", started[0], None
    delivered = _to_waiting_catch(txn, row)
    if delivered is not None:
        return "delivered", delivered, None
    noted = _note(txn, row)
    if noted is not None:
        return "noted", noted, None
    return "undeliverable", None, f"No process starts on '{row.name}' and no instance waits for it."


def _start_instances(txn: Transaction, row: OutboxMessage) -> list[ProcessInstance]:
    """A new instance of every current process that starts on this message."""
    started = []
    for version in db.session.scalars(select(ProcessVersion).where(ProcessVersion.is_current)):
        if row.name in txn.runtime.package_for(version).start_messages:
            started.append(
                start_as_platform(
                    txn,
                    version,
                    {},
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


def _to_waiting_catch(txn: Transaction, row: OutboxMessage) -> ProcessInstance | None:
    query = (
        select(MessageSubscription)
        .where(MessageSubscription.name == row.name)
        .order_by(MessageSubscription.id)
    )
    for subscription in db.session.scalars(query):
        if not _matches(subscription, row.correlation) or subscription.instance_id == row.source_instance_id:
            continue
        instance = txn.lock(subscription.instance_id)
        if instance.status != "running":
            continue
        package = txn.package(instance)
        try:
            result = txn.runtime.engine.deliver_message(package, instance.snapshot, row.name, row.payload)
        except MessageNotAccepted:
            continue
        txn.apply(
            instance,
            result,
            kind="deliver_message",
            actor_name="system",
            package=package,
            payload={
                "message": row.name,
                "event_id": row.event_id,
                "element_id": subscription.element_id,
                "payload": row.payload,
                "correlation": row.correlation,
            },
        )
        return instance
    return None


def _note(txn: Transaction, row: OutboxMessage) -> ProcessInstance | None:
    """A message naming a record that no longer waits for it is written into that record's history."""
    keys = [row.payload.get(field) for field in KEY_FIELDS]
    for key in (k for k in keys if isinstance(k, str) and k):
        instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.business_key == key))
        if instance is None or instance.id == row.source_instance_id:
            continue
        sender = row.source_instance.business_key if row.source_instance else None
        txn.note(
            "message_noted",
            "system",
            instance.id,
            {"message": row.name, "event_id": row.event_id, "payload": row.payload, "from": sender},
            {"status": instance.status},
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
        notices.notify([instance.started_by], text, instance=instance, at=txn.now)
        return instance
    return None
