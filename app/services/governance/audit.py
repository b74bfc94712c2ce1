"""The append-only, hash-chained audit log: every command's full input and what it led to."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEvent, AuditHead, User
from app.services.core.runtime import get_runtime
from app.services.errors import Forbidden

GENESIS = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(
    prev_hash: str,
    sequence: int,
    at: datetime,
    actor: str | None,
    instance_id: int | None,
    kind: str,
    payload: dict,
    result: dict,
) -> str:
    """SHA-256 over the previous hash and this event's content in canonical JSON."""
    body = _canonical([prev_hash, sequence, at.isoformat(), actor, instance_id, kind, payload, result])
    return hashlib.sha256(body.encode()).hexdigest()


def _locked_head() -> AuditHead:
    """The chain head, locked until commit so that appends from concurrent commands queue up."""
    head = db.session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        try:
            with db.session.begin_nested():
                db.session.add(AuditHead(id=1, sequence=0, hash=GENESIS))
        except IntegrityError:
            pass
        head = db.session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    return head


def append(
    *, kind: str, actor: str | None, instance_id: int | None, payload: dict, result: dict, at: datetime
) -> AuditEvent:
    """Add one event to the chain inside the caller's transaction (the caller commits)."""
    head = _locked_head()
    sequence = head.sequence + 1
    digest = event_hash(head.hash, sequence, at, actor, instance_id, kind, payload, result)
    event = AuditEvent(
        sequence=sequence,
        at=at,
        actor=actor,
        instance_id=instance_id,
        kind=kind,
        payload=payload,
        result=result,
        prev_hash=head.hash,
        hash=digest,
    )
    db.session.add(event)
    head.sequence = sequence
    head.hash = digest
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a chain check."""

    ok: bool
    checked: int
    first_bad_sequence: int | None
    message: str


def verify_chain(actor: User | None = None) -> ChainReport:
    """Recompute every hash in order; report the first event whose content or link does not match."""
    if actor is not None and not (actor.has_role("auditor") or actor.has_role("admin")):
        raise Forbidden(_l("Only auditors may verify the audit log."))
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.sequence)).yield_per(500):
        if event.sequence != expected_seq:
            return ChainReport(False, checked, expected_seq, f"Event {expected_seq} is missing from the log.")
        digest = event_hash(
            prev,
            event.sequence,
            event.at,
            event.actor,
            event.instance_id,
            event.kind,
            event.payload,
            event.result,
        )
        if event.prev_hash != prev or event.hash != digest:
            return ChainReport(False, checked, event.sequence, f"Event {event.sequence} was altered.")
        prev = event.hash
        expected_seq += 1
        checked += 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.sequence != checked or head.hash != prev):
        return ChainReport(
            False, checked, checked + 1, "The log ends before the recorded head: events were removed."
        )
    signed = _check_checkpoint()
    if signed is not None:
        return ChainReport(False, checked, signed.first_bad_sequence, signed.message)
    return ChainReport(True, checked, None, f"All {checked} events verified.")


def events_page(actor: User, *, page: int = 1, per_page: int = 50, instance_id: int | None = None):
    """The audit log, newest first, for auditors."""
    if not (actor.has_role("auditor") or actor.has_role("admin")):
        raise Forbidden(_l("Only auditors may read the audit log."))
    query = select(AuditEvent).order_by(AuditEvent.sequence.desc())
    if instance_id is not None:
        query = query.where(AuditEvent.instance_id == instance_id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def _mac(key: bytes, sequence: int, digest: str) -> str:
    return hmac.new(key, f"{sequence}:{digest}".encode(), hashlib.sha256).hexdigest()


def write_checkpoint() -> int:
    """Sign the chain head with the key kept outside the database and store it beside the instance.

    A chain alone cannot show a full recompute or a cut-off tail; the signed checkpoint can: whoever edits the
    database without the key cannot produce a matching signature.
    """
    target = get_runtime().audit_checkpoint
    head = db.session.get(AuditHead, 1)
    if target is None or head is None:
        return 0
    path, key = target
    body = {"sequence": head.sequence, "hash": head.hash, "mac": _mac(key, head.sequence, head.hash)}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body), encoding="utf-8")
    os.replace(temporary, path)
    return head.sequence


def _check_checkpoint() -> ChainReport | None:
    """Compare the log with the signed checkpoint, if one was written."""
    target = get_runtime().audit_checkpoint
    if target is None or not target[0].exists():
        return None
    path, key = target
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        sequence, digest, mac = int(saved["sequence"]), str(saved["hash"]), str(saved["mac"])
    except (ValueError, KeyError, TypeError):
        return ChainReport(False, 0, None, f"The audit checkpoint {path.name} is unreadable.")
    if not hmac.compare_digest(mac, _mac(key, sequence, digest)):
        return ChainReport(False, 0, None, "The audit checkpoint's signature does not match: it was forged.")
    if sequence == 0:
        return None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.sequence == sequence))
    if event is None:
        return ChainReport(
            False, 0, sequence, f"Events up to {sequence} were signed, but the log ends earlier."
        )
    if event.hash != digest:
        return ChainReport(
            False, 0, sequence, f"The log was rewritten: event {sequence} differs from the signed one."
        )
    return None
