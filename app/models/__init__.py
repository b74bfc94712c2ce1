"""Typed SQLAlchemy models, one module per area; import them from here."""

from app.models.audit import AuditEvent, AuditHead
from app.models.records import ConfigurationItem, KeyCounter
from app.models.users import Membership, Role, User
from app.models.workflow import HumanTask, ProcessInstance, ProcessVersion, Timer

__all__ = [
    "AuditEvent",
    "AuditHead",
    "ConfigurationItem",
    "HumanTask",
    "KeyCounter",
    "Membership",
    "ProcessInstance",
    "ProcessVersion",
    "Role",
    "Timer",
    "User",
]
