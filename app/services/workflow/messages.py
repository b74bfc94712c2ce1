"""Pipeline step: the message rows of a command — subscriptions of waiting catches, the outbox, record links.

Everything here runs inside the command's transaction; outbox.py delivers what was queued after it commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import MessageSubscription, OutboxMessage, ProcessInstance, RecordLink
from app.services.core.unit import json_safe
from engine import CommandResult

#: Payload keys that name a record by its business key (a reply is noted there when nothing waits for it).
KEY_FIELDS = ("source_key", "target_key")


def sync_subscriptions(instance: ProcessInstance, result: CommandResult) -> None:
    """Mirror the instance's waiting message catch events (the router looks them up by name)."""
    waiting = {sub.task_id: sub for sub in result.subscriptions}
    for row in db.session.scalars(
        select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)
    ):
        if waiting.pop(row.engine_task_id, None) is None:
            db.session.delete(row)
    for sub in waiting.values():
        db.session.add(
            MessageSubscription(
                instance_id=instance.id,
                engine_task_id=sub.task_id,
                element_id=sub.element_id,
                name=sub.name,
                correlation=json_safe(sub.correlation or {}),
            )
        )


def queue(instance: ProcessInstance, result: CommandResult, now: datetime) -> list[OutboxMessage]:
    """Store the messages the command threw, in its own transaction."""
    rows = []
    for message in result.messages:
        row = OutboxMessage(
            event_id=str(uuid.uuid4()),
            name=message.name,
            correlation=json_safe(message.correlation or {}),
            payload=json_safe(message.payload or {}),
            source_instance_id=instance.id,
            status="pending",
            created_at=now,
            next_attempt_at=now,
        )
        db.session.add(row)
        rows.append(row)
    if rows:
        db.session.info["outbox_pending"] = True  # the pipeline delivers after the commit
    return rows


def link(row: OutboxMessage, target: ProcessInstance, now: datetime) -> None:
    """Record that the sender and the receiver of a message belong together (shown on both records)."""
    source_id = row.source_instance_id
    if source_id is None or source_id == target.id:
        return
    pair = sorted((source_id, target.id))
    exists = db.session.scalar(
        select(RecordLink.id).where(
            ((RecordLink.from_instance_id == pair[0]) & (RecordLink.to_instance_id == pair[1]))
            | ((RecordLink.from_instance_id == pair[1]) & (RecordLink.to_instance_id == pair[0]))
        )
    )
    if exists is None:
        db.session.add(
            RecordLink(from_instance_id=source_id, to_instance_id=target.id, kind=row.name, created_at=now)
        )


def links_of(instance: ProcessInstance) -> list[tuple[ProcessInstance, str]]:
    """Every instance linked to this one, either way, with the message that linked them."""
    rows = db.session.scalars(
        select(RecordLink)
        .where((RecordLink.from_instance_id == instance.id) | (RecordLink.to_instance_id == instance.id))
        .order_by(RecordLink.id)
    )
    return [
        (row.to_instance if row.from_instance_id == instance.id else row.from_instance, row.kind)
        for row in rows
    ]
