"""Commands on process instances that people give: start, complete a task, cancel (each one pipeline run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, ProcessVersion, User
from app.roles import REQUESTER
from app.services.core.formdefs import FormDef
from app.services.core.keys import next_key
from app.services.core.runtime import get_runtime
from app.services.core.unit import json_safe
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.workflow.forms import validate_form
from app.services.workflow.pipeline import Command
from app.services.workflow.starting import current_version
from app.services.workflow.tasks import check_can_work


@dataclass(frozen=True)
class StartOption:
    """A process the user may start, with its start form."""

    process_id: str
    name: str
    form: FormDef | None


def _start_role(version: ProcessVersion) -> str | None:
    package = get_runtime().package_for(version)
    if package.start_task is None:
        return None
    return package.user_tasks[package.start_task].role


def _may_start(actor: User, role: str | None) -> bool:
    if role == REQUESTER:
        return True
    if role is None:
        return actor.has_role("process_owner") or actor.has_role("admin")
    return actor.has_role(role)


def startable_processes(actor: User) -> list[StartOption]:
    """Every deployed process the user may start."""
    runtime = get_runtime()
    options = []
    for version in db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.is_current).order_by(ProcessVersion.process_id)
    ):
        if not _may_start(actor, _start_role(version)):
            continue
        package = runtime.package_for(version)
        form = runtime.forms.get(package.user_tasks[package.start_task].form) if package.start_task else None
        options.append(StartOption(version.process_id, version.name, form))
    return options


def start_form(actor: User, process_id: str) -> FormDef | None:
    """The start form of a process the user may start."""
    version = current_version(process_id)
    if not _may_start(actor, _start_role(version)):
        raise Forbidden(_l("You may not start this process."))
    package = get_runtime().package_for(version)
    return (
        get_runtime().forms.get(package.user_tasks[package.start_task].form) if package.start_task else None
    )


def start_process(
    actor: User, process_id: str, data: dict[str, Any], *, locale: str, tz: str
) -> ProcessInstance:
    """Start a process: validate the start form, run the engine, store instance, tasks and audit; commit."""
    with Command() as cmd:
        version = current_version(process_id)
        if not _may_start(actor, _start_role(version)):
            raise Forbidden(_l("You may not start this process."))
        package = cmd.runtime.package_for(version)
        clean: dict[str, Any] = {}
        business_key = next_key(process_id, cmd.now)
        if package.start_task:
            form = cmd.runtime.forms.get(package.user_tasks[package.start_task].form)
            clean = validate_form(
                form, data, actor=actor, locale=locale, tz=tz, now=cmd.now, business_key=business_key
            )
        engine_input = dict(
            clean,
            sys_business_key=business_key,
            sys_started_by=actor.username,
            sys_started_at=cmd.now.isoformat(),
        )
        result = cmd.engine(lambda engine: engine.start(package, engine_input))
        instance = ProcessInstance(
            version=version,
            process_id=process_id,
            business_key=business_key,
            title=str(clean.get("title", ""))[:300],
            snapshot=result.snapshot,
            started_by_id=actor.id,
            started_at=cmd.now,
        )
        db.session.add(instance)
        db.session.flush()
        cmd.apply(
            instance,
            result,
            kind="start",
            actor=actor,
            package=package,
            payload={"process_id": process_id, "content_hash": version.content_hash, "data": engine_input},
        )
    return instance


def complete_task(
    actor: User, task_id: int, data: dict[str, Any], *, locale: str, tz: str
) -> ProcessInstance:
    """Complete a human task with validated form data; one of concurrent completions wins, others 409."""
    with Command() as cmd:
        task = db.session.get(HumanTask, task_id)
        if task is None:
            raise NotFound(_l("No such task."))
        check_can_work(actor, task)
        instance = cmd.lock(task.instance_id)
        db.session.refresh(task)
        if task.status != "open":
            raise Conflict(_l("This task has already been completed."))
        check_can_work(actor, task)
        form = cmd.runtime.forms.get(task.form)
        clean = validate_form(
            form, data, actor=actor, locale=locale, tz=tz, now=cmd.now, business_key=instance.business_key
        )
        package = cmd.package(instance)
        result = cmd.engine(
            lambda engine: engine.complete_task(package, instance.snapshot, task.engine_task_id, clean)
        )
        task.status = "completed"
        task.completed_at = cmd.now
        task.completed_by_id = actor.id
        task.assignee_id = task.assignee_id or actor.id
        task.result = json_safe(clean)
        db.session.flush()  # notices to "whoever completed this step" must see the completion
        cmd.apply(
            instance,
            result,
            kind="complete_task",
            actor=actor,
            package=package,
            payload={
                "task_id": task.id,
                "engine_task_id": task.engine_task_id,
                "element_id": task.element_id,
                "data": clean,
            },
        )
    return instance


def cancel_instance(actor: User, instance_id: int, reason: str) -> ProcessInstance:
    """Cancel a running instance (process owners and admins); open tasks are withdrawn."""
    if not (actor.has_role("process_owner") or actor.has_role("admin")):
        raise Forbidden(_l("Only process owners may cancel an instance."))
    with Command() as cmd:
        instance = cmd.lock(instance_id)
        if instance.status != "running":
            raise Conflict(_l("This instance is no longer running."))
        package = cmd.package(instance)
        result = cmd.engine(lambda engine: engine.cancel(package, instance.snapshot))
        cmd.apply(instance, result, kind="cancel", actor=actor, package=package, payload={"reason": reason})
    return instance
