"""What a record is linked to: other instances (either way), configuration items, known errors, articles."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Article, KnownError, ProcessInstance, User
from app.services.errors import Forbidden
from app.services.governance.permissions import can_view_instance
from app.services.registries.pickers import ci_names
from app.services.workflow.messages import links_of


@dataclass(frozen=True)
class LinkedInstance:
    """Another record linked to this one; ``visible`` says whether the user may open it."""

    instance: ProcessInstance
    kind: str
    visible: bool


@dataclass(frozen=True)
class Related:
    """What a record is linked to: other instances (either way), CIs, known errors and articles."""

    instances: list[LinkedInstance]
    cis: list[tuple[str, str]]
    known_errors: list = ()
    articles: list = ()


def related_records(actor: User, instance: ProcessInstance) -> Related:
    """Linked instances (incident <-> problem <-> change <-> release ...) and the CIs the record names."""
    if not can_view_instance(actor, instance):
        raise Forbidden(_l("You may not see this process instance."))
    linked = [
        LinkedInstance(other, kind, can_view_instance(actor, other)) for other, kind in links_of(instance)
    ]
    codes = [code for code in instance.data.get("affected_cis") or [] if isinstance(code, str)]
    names = ci_names(codes)
    keys = [instance.business_key] + [link.instance.business_key for link in linked]
    known_errors = list(db.session.scalars(select(KnownError).where(KnownError.problem_key.in_(keys))))
    articles = list(db.session.scalars(select(Article).where(Article.source_key.in_(keys))))
    return Related(linked, [(code, names.get(code, code)) for code in codes], known_errors, articles)
