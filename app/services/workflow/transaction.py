"""The transaction of one command on process instances: lock, engine, steps, audit event, one commit.

Every command — a start, a completed task, a fired timer, a delivered message, a cancellation, a claim — runs
in one ``Transaction``::

    with Transaction() as txn:
        instance = txn.lock(instance_id)
        result = txn.engine(lambda engine: engine.complete_task(package, instance.snapshot, task_id, data))
        txn.apply(instance, result, kind="complete_task", actor=actor, payload={...}, package=package)

Leaving the block commits once (a concurrent change of the instance is a Conflict, 409); an exception rolls
everything back, so nothing half-written survives. workflow/pipeline.py adds what follows the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import HumanTask, ProcessInstance, User
from app.services.core.runtime import Runtime, get_runtime
from app.services.core.unit import writing
from app.services.errors import Conflict, NotFound, ProcessProblem
from app.services.governance import audit
from app.services.workflow import steps
from engine import CommandResult, Engine, EngineError, ProcessPackage


class Transaction:
    """One command's unit of work on process instances (see the module docstring)."""

    def __init__(self) -> None:
        self.runtime: Runtime = get_runtime()
        #: The command's time: every row and the audit event it writes carry it.
        self.now: datetime = self.runtime.now()
        self._writing = writing()

    def __enter__(self) -> Transaction:
        self._writing.__enter__()
        self.now = self.runtime.now()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc_type is not None:
                db.session.rollback()
            else:
                self.commit()
        finally:
            self._writing.__exit__(None, None, None)
        return False

    def lock(self, instance_id: int) -> ProcessInstance:
        """Lock the instance row for the rest of the transaction and read it afresh (404 when absent)."""
        instance = db.session.scalar(
            select(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if instance is None:
            raise NotFound(_l("No such process instance."))
        return instance

    def package(self, instance: ProcessInstance) -> ProcessPackage:
        """The parsed process version the instance runs on."""
        return self.runtime.package_for(instance.version)

    def engine(self, call: Callable[[Engine], CommandResult]) -> CommandResult:
        """Let the engine compute the command's result; its errors become a ProcessProblem (422)."""
        try:
            return call(self.runtime.engine)
        except EngineError as exc:
            raise ProcessProblem(str(exc)) from exc

    def apply(
        self,
        instance: ProcessInstance,
        result: CommandResult,
        *,
        kind: str,
        payload: dict[str, Any],
        actor: User | None = None,
        actor_name: str | None = None,
        package: ProcessPackage | None = None,
    ) -> list[HumanTask]:
        """Write the engine's result through the steps and append the command's audit event.

        :param actor: who acted (None for the platform: timers, messages); effects run as this user.
        :param actor_name: the audit event's actor when it is not ``actor.username`` (``system``).
        :returns: the human tasks the command opened.
        """
        created = steps.apply(instance, result, self.now, package, actor)
        name = actor_name if actor_name is not None else (actor.username if actor else None)
        steps.record(kind, name, instance, payload, result, self.now)
        return created

    def note(
        self, kind: str, actor: str | None, instance_id: int | None, payload: dict, result: dict
    ) -> None:
        """Append an audit event for a command that changed no engine state (a claim, a noted message)."""
        audit.append(
            kind=kind, actor=actor, instance_id=instance_id, payload=payload, result=result, at=self.now
        )

    def commit(self) -> None:
        """Commit once; an instance changed by a concurrent command makes this one a Conflict."""
        try:
            db.session.commit()
        except StaleDataError as exc:
            db.session.rollback()
            raise Conflict(
                _l("Someone else changed this process at the same time; reload and try again.")
            ) from exc
