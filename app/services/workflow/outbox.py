"""Delivering the outbox: the messages commands threw, each delivered in a transaction of its own.

A message goes to a new instance (message start event), else to a waiting correlated catch event, else it is
noted on the instance its payload names (``source_key`` / ``target_key``), else it stays undeliverable and is
retried (workflow/deliveries.py decides). Delivery is idempotent by the outbox event id.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import MessageDelivery, OutboxMessage
from app.services.core.runtime import get_runtime
from app.services.core.unit import command
from app.services.workflow import deliveries
from app.services.workflow.messages import link
from app.services.workflow.transaction import Transaction

log = logging.getLogger(__name__)

MAX_ATTEMPTS_BACKOFF = timedelta(minutes=30)
#: Final states of a message: it reached a receiver, or was noted on the record it names.
DELIVERED = ("delivered", "noted")


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
            deliver_message(message_id)
        except Exception as exc:  # one broken message must not block the others; it stays due and is retried
            db.session.rollback()
            log.exception("delivering outbox message %s failed", message_id)
            mark_failed(message_id, f"the delivery raised {type(exc).__name__}; see the server log")
        handled += 1
    return handled


@command
def mark_failed(message_id: int, reason: str) -> None:
    """Record a failed delivery attempt and when to try again — unless the message was delivered meanwhile
    (by another worker, the scheduler or the request thread): a delivered message is never downgraded."""
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update())
    if row is None or row.status in DELIVERED:
        db.session.rollback()
        return
    row.attempts += 1
    row.status = "undeliverable"
    row.last_error = reason[:2000]
    row.next_attempt_at = get_runtime().now() + _backoff(row.attempts)
    db.session.commit()


def _backoff(attempts: int) -> timedelta:
    return min(MAX_ATTEMPTS_BACKOFF, timedelta(seconds=2**attempts))


def deliver_message(message_id: int) -> str:
    """Deliver one message (one transaction); returns its new status. Delivering twice does nothing.

    The message row is claimed first (locked; skipped when another deliverer holds it) and its delivery is
    recorded under the event's unique id in the same transaction: a second delivery of the event fails there
    and leaves nothing behind.
    """
    try:
        return _deliver(message_id)
    except IntegrityError:
        db.session.rollback()
        delivered = db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
        if delivered in DELIVERED:
            return delivered
        raise


def _deliver(message_id: int) -> str:
    with Transaction() as txn:
        query = select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update(skip_locked=True)
        row = db.session.scalar(query)
        if row is None or row.status in DELIVERED:
            return row.status if row else "locked"
        status, target, error = deliveries.route(txn, row)
        row.attempts += 1
        row.status = status
        row.last_error = error
        if target is not None:
            row.target_instance_id = target.id
            link(row, target, txn.now)
        if status in DELIVERED:
            row.delivered_at = txn.now
            db.session.add(
                MessageDelivery(
                    event_id=row.event_id,
                    message_id=row.id,
                    status=status,
                    target_instance_id=target.id if target is not None else None,
                    delivered_at=txn.now,
                )
            )
            db.session.flush()  # a second delivery of this event stops here, before anything commits
        else:
            row.next_attempt_at = txn.now + _backoff(row.attempts)
    return status


def undeliverable_messages(page: int = 1, per_page: int = 50):
    """Messages that found no receiver yet (admins see and retry them)."""
    query = (
        select(OutboxMessage).where(OutboxMessage.status == "undeliverable").order_by(OutboxMessage.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


@command
def retry_message(message_id: int) -> str:
    """Try one message again now."""
    row = db.session.get(OutboxMessage, message_id)
    if row is not None and row.status == "undeliverable":
        row.next_attempt_at = get_runtime().now()
        db.session.commit()
        return deliver_message(message_id)
    return row.status if row else "missing"
