"""Who may see and do what, checked per object."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, User

STAFF_ROLES = {"process_owner", "auditor", "admin"}


def is_staff(user: User) -> bool:
    """Process owners, auditors and admins oversee every instance."""
    return bool(user.role_codes & STAFF_ROLES)


def can_view_instance(user: User, instance: ProcessInstance) -> bool:
    """The requester, staff, and holders of a role that had a task in the instance may see it."""
    if instance.started_by_id == user.id or is_staff(user):
        return True
    roles = user.role_codes
    if not roles:
        return False
    query = (
        select(HumanTask.id).where(HumanTask.instance_id == instance.id, HumanTask.role.in_(roles)).limit(1)
    )
    return db.session.scalar(query) is not None
