"""Process instances: start, complete a task, cancel, and read them back (one commit per command)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import AuditEvent, HumanTask, ProcessInstance, ProcessVersion, User
from app.roles import REQUESTER
from app.services import commands, messaging
from app.services.errors import Conflict, Forbidden, NotFound, ProcessProblem
from app.services.formdefs import FormDef
from app.services.forms import validate_form
from app.services.keys import next_key
from app.services.permissions import can_view_instance, is_staff
from app.services.runtime import get_runtime
from app.services.tasks import check_can_work
from engine import EngineError


@dataclass(frozen=True)
class StartOption:
    """A process the user may start, with its start form."""

    process_id: str
    name: str
    form: FormDef | None


def current_version(process_id: str) -> ProcessVersion:
    """The deployed version new instances of the process start on."""
    version = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.process_id == process_id, ProcessVersion.is_current)
    )
    if version is None:
        raise NotFound(_l("No deployed process '%(process_id)s'.", process_id=process_id))
    return version


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


@commands.command
def start_process(
    actor: User, process_id: str, data: dict[str, Any], *, locale: str, tz: str
) -> ProcessInstance:
    """Start a process: validate the start form, run the engine, store instance, tasks and audit; commit."""
    runtime = get_runtime()
    now = runtime.now()
    version = current_version(process_id)
    if not _may_start(actor, _start_role(version)):
        raise Forbidden(_l("You may not start this process."))
    package = runtime.package_for(version)
    clean: dict[str, Any] = {}
    business_key = next_key(process_id, now)
    if package.start_task:
        form = runtime.forms.get(package.user_tasks[package.start_task].form)
        clean = validate_form(
            form, data, actor=actor, locale=locale, tz=tz, now=now, business_key=business_key
        )
    engine_input = dict(
        clean, sys_business_key=business_key, sys_started_by=actor.username, sys_started_at=now.isoformat()
    )
    try:
        result = runtime.engine.start(package, engine_input)
    except EngineError as exc:
        raise ProcessProblem(str(exc)) from exc
    instance = ProcessInstance(
        version=version,
        process_id=process_id,
        business_key=business_key,
        title=str(clean.get("title", ""))[:300],
        snapshot=result.snapshot,
        started_by_id=actor.id,
        started_at=now,
    )
    db.session.add(instance)
    db.session.flush()
    commands.apply_result(instance, result, now, package, actor)
    commands.record(
        "start",
        actor.username,
        instance,
        {"process_id": process_id, "content_hash": version.content_hash, "data": engine_input},
        result,
        now,
    )
    _commit_or_conflict()
    return instance


@commands.command
def complete_task(
    actor: User, task_id: int, data: dict[str, Any], *, locale: str, tz: str
) -> ProcessInstance:
    """Complete a human task with validated form data; one of concurrent completions wins, others 409."""
    runtime = get_runtime()
    task = db.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(_l("No such task."))
    check_can_work(actor, task)
    instance = _lock_instance(task.instance_id)
    db.session.refresh(task)
    if task.status != "open":
        raise Conflict(_l("This task has already been completed."))
    check_can_work(actor, task)
    now = runtime.now()
    form = runtime.forms.get(task.form)
    clean = validate_form(
        form, data, actor=actor, locale=locale, tz=tz, now=now, business_key=instance.business_key
    )
    package = runtime.package_for(instance.version)
    try:
        result = runtime.engine.complete_task(package, instance.snapshot, task.engine_task_id, clean)
    except EngineError as exc:
        raise ProcessProblem(str(exc)) from exc
    task.status = "completed"
    task.completed_at = now
    task.completed_by_id = actor.id
    task.assignee_id = task.assignee_id or actor.id
    task.result = commands.json_safe(clean)
    db.session.flush()  # notices to "whoever completed this step" must see the completion
    commands.apply_result(instance, result, now, package, actor)
    commands.record(
        "complete_task",
        actor.username,
        instance,
        {
            "task_id": task.id,
            "engine_task_id": task.engine_task_id,
            "element_id": task.element_id,
            "data": clean,
        },
        result,
        now,
    )
    _commit_or_conflict()
    return instance


@commands.command
def cancel_instance(actor: User, instance_id: int, reason: str) -> ProcessInstance:
    """Cancel a running instance (process owners and admins); open tasks are withdrawn."""
    if not (actor.has_role("process_owner") or actor.has_role("admin")):
        raise Forbidden(_l("Only process owners may cancel an instance."))
    runtime = get_runtime()
    instance = _lock_instance(instance_id)
    if instance.status != "running":
        raise Conflict(_l("This instance is no longer running."))
    now = runtime.now()
    result = runtime.engine.cancel(runtime.package_for(instance.version), instance.snapshot)
    commands.apply_result(instance, result, now, actor=actor)
    commands.record("cancel", actor.username, instance, {"reason": reason}, result, now)
    _commit_or_conflict()
    return instance


def _lock_instance(instance_id: int) -> ProcessInstance:
    """Lock the instance row (PostgreSQL: FOR UPDATE; SQLite serialises writers; version column for both)."""
    instance = db.session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise NotFound(_l("No such process instance."))
    return instance


def _commit_or_conflict() -> None:
    """Commit the command, then deliver the messages it threw (each delivery is a command of its own)."""
    try:
        db.session.commit()
    except StaleDataError as exc:
        raise Conflict(
            _l("Someone else changed this process at the same time; reload and try again.")
        ) from exc
    messaging.deliver_after_commit()
    if get_runtime().wake is not None:  # only a process running the scheduler needs the next due time
        from app.services.timers import next_due_at

        get_runtime().announce(next_due_at())


def get_instance(
    actor: User, instance_id: int | None = None, business_key: str | None = None
) -> ProcessInstance:
    """An instance the user may see (404 when absent, 403 when not theirs to see)."""
    if business_key is not None:
        instance = db.session.scalar(
            select(ProcessInstance).where(ProcessInstance.business_key == business_key)
        )
    else:
        instance = db.session.get(ProcessInstance, instance_id) if instance_id is not None else None
    if instance is None:
        raise NotFound(_l("No such process instance."))
    if not can_view_instance(actor, instance):
        raise Forbidden(_l("You may not see this process instance."))
    return instance


@dataclass(frozen=True)
class HistoryEntry:
    """One command in an instance's life, as an auditor or requester reads it."""

    sequence: int
    at: Any
    actor: str | None
    kind: str
    element_id: str | None
    name: str | None
    form: str | None
    data: dict
    tasks_after: list[dict]


def instance_history(actor: User, instance: ProcessInstance) -> list[HistoryEntry]:
    """Every command of the instance in order, with what was entered and which tasks followed."""
    if not can_view_instance(actor, instance):
        raise Forbidden(_l("You may not see this process instance."))
    package = get_runtime().package_for(instance.version)
    entries = []
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == instance.id).order_by(AuditEvent.sequence)
    )
    for event in events:
        element_id = event.payload.get("element_id")
        if event.kind == "start" and package.start_task:
            element_id = package.start_task
        spec = package.user_tasks.get(element_id) if element_id else None
        data = {k: v for k, v in (event.payload.get("data") or {}).items() if not k.startswith("sys_")}
        if event.kind == "cancel":
            data = {"reason": event.payload.get("reason")}
        entries.append(
            HistoryEntry(
                event.sequence,
                event.at,
                event.actor,
                event.kind,
                element_id,
                spec.name if spec else None,
                spec.form if spec else None,
                data,
                event.result.get("open_tasks", []),
            )
        )
    return entries


def my_requests(actor: User, *, status: str | None = None, page: int = 1, per_page: int = 25):
    """The instances the user started, newest first."""
    query = select(ProcessInstance).where(ProcessInstance.started_by_id == actor.id)
    if status:
        query = query.where(ProcessInstance.status == status)
    return db.paginate(
        query.order_by(ProcessInstance.id.desc()), page=page, per_page=per_page, error_out=False
    )


def diagram_xml(actor: User, instance: ProcessInstance) -> str:
    """The BPMN text of the version the instance runs on."""
    if not can_view_instance(actor, instance):
        raise Forbidden(_l("You may not see this process instance."))
    return instance.version.files[f"{instance.process_id}.bpmn"]


def list_instances(
    actor: User,
    *,
    process_id: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 25,
):
    """All instances, for staff who oversee processes (owners, auditors, admins)."""
    if not is_staff(actor):
        raise Forbidden(_l("Only process owners and auditors may list every instance."))
    query = select(ProcessInstance)
    if process_id:
        query = query.where(ProcessInstance.process_id == process_id)
    if status:
        query = query.where(ProcessInstance.status == status)
    return db.paginate(
        query.order_by(ProcessInstance.id.desc()), page=page, per_page=per_page, error_out=False
    )


def start_as_platform(
    version: ProcessVersion,
    extra: dict[str, Any],
    now: datetime,
    *,
    kind: str,
    payload: dict[str, Any],
    actor: str = "system",
    message: str | None = None,
    message_payload: dict[str, Any] | None = None,
    complete_start_task: bool = True,
    scheduled: bool = False,
) -> ProcessInstance:
    """Start an instance that no form started: on a message or a schedule (inside the caller's transaction).

    The platform user ``system`` is its starter; the audit event records everything needed to replay it.
    """
    from dataclasses import replace

    runtime = get_runtime()
    package = runtime.package_for(version)
    key = next_key(version.process_id, now)
    data = dict(
        message_payload or {},
        **extra,
        sys_business_key=key,
        sys_started_by=actor,
        sys_started_at=now.isoformat(),
    )
    result = runtime.engine.start(
        package, data, message=message, complete_start_task=complete_start_task, scheduled=scheduled
    )
    if message is not None:
        delivered = runtime.engine.deliver_message(package, result.snapshot, message, message_payload or {})
        result = replace(delivered, facts=list(result.facts) + list(delivered.facts))
    instance = ProcessInstance(
        version=version,
        process_id=version.process_id,
        business_key=key,
        title=str(data.get("title", ""))[:300],
        snapshot=result.snapshot,
        started_by_id=messaging.system_user().id,
        started_at=now,
    )
    db.session.add(instance)
    db.session.flush()
    commands.apply_result(instance, result, now, package)
    commands.record(
        kind,
        actor,
        instance,
        {
            "process_id": version.process_id,
            "content_hash": version.content_hash,
            "data": data,
            "message": message,
            **payload,
        },
        result,
        now,
    )
    return instance
