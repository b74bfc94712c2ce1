"""Typed SQLAlchemy models, one module per area; import them from here."""

from app.models._types import utc_now
from app.models.audit import AuditEvent, AuditHead
from app.models.cmdb import CIHistory, CIRelation
from app.models.knowledge import Article, ArticleAttachment, KnownError
from app.models.messaging import MessageDelivery, MessageSubscription, Notification, OutboxMessage, RecordLink
from app.models.records import ConfigurationItem, KeyCounter
from app.models.schedules import Schedule, SlaTarget
from app.models.users import Membership, Role, User
from app.models.workflow import HumanTask, ProcessInstance, ProcessVersion, Timer

__all__ = [
    "Article",
    "ArticleAttachment",
    "AuditEvent",
    "AuditHead",
    "CIHistory",
    "CIRelation",
    "ConfigurationItem",
    "HumanTask",
    "KeyCounter",
    "KnownError",
    "Membership",
    "MessageDelivery",
    "MessageSubscription",
    "Notification",
    "OutboxMessage",
    "RecordLink",
    "ProcessInstance",
    "ProcessVersion",
    "Role",
    "Schedule",
    "SlaTarget",
    "Timer",
    "User",
    "utc_now",
]
