"""Messages between instances: a durable outbox filled in the thrower's transaction, delivered after commit.

A message goes to a new instance (message start event), else to a waiting correlated catch event, else it is
noted on the instance its payload names (``source_key`` / ``target_key``), else it stays undeliverable and is
retried. Each delivery is one command of its own, idempotent by the outbox event id.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import MessageSubscription, OutboxMessage, ProcessInstance, RecordLink, User
from app.services.runtime import get_runtime
from engine import CommandResult

log = logging.getLogger(__name__)

SYSTEM_USER = "system"
MAX_ATTEMPTS_BACKOFF = timedelta(minutes=30)
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
                correlation=_plain(sub.correlation),
            )
        )


def queue(instance: ProcessInstance, result: CommandResult, now: datetime) -> list[OutboxMessage]:
    """Store the messages the command threw, in its own transaction."""
    rows = []
    for message in result.messages:
        row = OutboxMessage(
            event_id=str(uuid.uuid4()),
            name=message.name,
            correlation=_plain(message.correlation),
            payload=_plain(message.payload),
            source_instance_id=instance.id,
            status="pending",
            created_at=now,
            next_attempt_at=now,
        )
        db.session.add(row)
        rows.append(row)
    if rows:
        db.session.info["outbox_pending"] = True  # deliver_after_commit() has work to do
    return rows


def deliver_after_commit() -> int:
    """Deliver what the command that just committed threw (nothing to do for most commands)."""
    if not db.session.info.pop("outbox_pending", False):
        return 0
    return deliver_pending()


def _plain(value):
    from app.services.commands import json_safe

    return json_safe(value or {})


def system_user() -> User:
    """The platform's own account, which starts instances on messages and schedules (it cannot sign in)."""
    user = db.session.scalar(select(User).where(User.username == SYSTEM_USER))
    if user is None:
        # "!" matches no password hash: the account can never sign in.
        user = User(username=SYSTEM_USER, display_name="系统 (system)", active=False, password_hash="!")  # noqa: S106
        db.session.add(user)
        db.session.flush()
    return user


def deliver_pending(limit: int = 100) -> int:
    """Deliver due outbox messages, including those that deliveries themselves throw; returns how many."""
    handled = 0
    now = get_runtime().now()
    while handled < limit:
        query = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status.in_(("pending", "undeliverable")), OutboxMessage.next_attempt_at <= now
            )
            .order_by(OutboxMessage.id)
            .limit(1)
        )
        message_id = db.session.scalar(query)
        db.session.rollback()
        if message_id is None:
            break
        try:
            deliver(message_id)
        except Exception:  # one broken message must not block the others; it stays due and is retried
            db.session.rollback()
            log.exception("delivering outbox message %s failed", message_id)
            _mark_failed(message_id)
        handled += 1
    return handled


def _mark_failed(message_id: int) -> None:
    row = db.session.get(OutboxMessage, message_id)
    if row is not None:
        row.attempts += 1
        row.status = "undeliverable"
        row.last_error = "the delivery raised an error; see the server log"
        row.next_attempt_at = get_runtime().now() + min(
            MAX_ATTEMPTS_BACKOFF, timedelta(seconds=2**row.attempts)
        )
        db.session.commit()


def deliver(message_id: int) -> str:
    """Deliver one message (one command); returns its new status. Delivering twice does nothing."""
    from app.services import deliveries

    query = select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update(skip_locked=True)
    row = db.session.scalar(query)
    if row is None or row.status in ("delivered", "noted"):
        db.session.rollback()
        return row.status if row else "locked"
    now = get_runtime().now()
    status, target, error = deliveries.route(row, now)
    row.attempts += 1
    row.status = status
    row.last_error = error
    if target is not None:
        row.target_instance_id = target.id
        _link(row, target, now)
    if status in ("delivered", "noted"):
        row.delivered_at = now
    else:
        row.next_attempt_at = now + min(MAX_ATTEMPTS_BACKOFF, timedelta(seconds=2**row.attempts))
    db.session.commit()
    return status


def _link(row: OutboxMessage, target: ProcessInstance, now: datetime) -> None:
    """Record that the sender and the receiver belong together (shown on both records)."""
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


def undeliverable(page: int = 1, per_page: int = 50):
    """Messages that found no receiver yet (admins see and retry them)."""
    query = (
        select(OutboxMessage).where(OutboxMessage.status == "undeliverable").order_by(OutboxMessage.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def retry(message_id: int) -> str:
    """Try one message again now."""
    row = db.session.get(OutboxMessage, message_id)
    if row is not None and row.status == "undeliverable":
        row.next_attempt_at = get_runtime().now()
        db.session.commit()
        return deliver(message_id)
    return row.status if row else "missing"
